// Entry of the page: starts the worker that owns TensorFlow.js, then mounts the app.
import { mount } from 'svelte';
import { WorkerClient } from '../lib/runtime/client';
import { notebooks } from '../notebooks/registry';
import App from './App.svelte';
import { backendFromSearch } from './router';
import { HashRouter } from './router.svelte';
import { Workbench } from './workbench.svelte';
import './app.css';

const worker = new Worker(new URL('../lib/runtime/worker.ts', import.meta.url), {
  type: 'module',
  name: 'farmer-runtime',
});
const { backend, invalid } = backendFromSearch(location.search);
const workbench = new Workbench(new WorkerClient(worker), backend, invalid);
const router = new HashRouter(notebooks.map((n) => n.id));

mount(App, { target: document.getElementById('app')!, props: { workbench, router } });
void workbench.start();
