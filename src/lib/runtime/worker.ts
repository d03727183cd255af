// The module Web Worker that owns TensorFlow.js and the models. Everything it does is in
// worker-handlers.ts; this file wires the real backend selection, zoo index, checkpoint loader,
// experiment registry, test splits (static/data/) and feature networks (static/models/).
/// <reference lib="webworker" />
import * as tf from '@tensorflow/tfjs';
import { fetchTestSet } from '../data/datasets';
import { loadExperiment } from '../experiments/catalog';
import { makeModel } from '../farmer/model';
import { countParams, disposeParams } from '../nn/params';
import { CheckpointError, loadCheckpoint } from '../io/checkpoint';
import { parseZooIndex } from '../io/zoo';
import { fetchFeatureNet } from '../metrics/features';
import { selectBackend } from '../tf/backend';
import { probeModel } from '../farmer/probe';
import { indexedDbStore } from './backend-choice';
import { createHost } from './host';
import { RunError, type WorkerEvent } from './protocol';
import { createHandlers } from './worker-handlers';

const scope = self as unknown as DedicatedWorkerGlobalScope;

const base = new URL(import.meta.env.BASE_URL, scope.location.origin).href;

const handlers = createHandlers({
  selectBackend: (preferred) => selectBackend(preferred),
  async useBackend(name) {
    try {
      return (await selectBackend(name, { fallback: false })).active === name;
    } catch {
      return false;
    }
  },
  probe: probeModel,
  async machine() {
    const gpu = (
      navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }
    ).gpu;
    const info = gpu ? (await gpu.requestAdapter().catch(() => null))?.info : undefined;
    return [
      info ? [info.vendor, info.architecture, info.device, info.description].join(' ') : 'no WebGPU adapter',
      `${navigator.hardwareConcurrency} cores`,
      navigator.userAgent,
    ].join(' | ');
  },
  timings: indexedDbStore(),
  async environment() {
    const wasm = tf.getBackend() === 'wasm' ? await import('@tensorflow/tfjs-backend-wasm') : null;
    return {
      crossOriginIsolated: scope.crossOriginIsolated === true,
      wasmThreads: wasm ? wasm.getThreadsCount() : null,
    };
  },
  fetch: (input, init) => fetch(input, init),
  base,
  readZooIndex: (raw) => parseZooIndex(raw).models,
  async loadCheckpoint(bytes, name) {
    let loaded;
    try {
      loaded = loadCheckpoint(bytes, name);
    } catch (e) {
      if (e instanceof CheckpointError) throw new RunError('malformed', e.message);
      throw e;
    }
    const { config, card, params } = loaded;
    return {
      info: { name, parameters: countParams(params), config, card },
      model: makeModel(config, params),
      dispose: () => disposeParams(params),
    };
  },
  loadExperiment,
  // Colored MNIST is derived here from the MNIST file: a third of the download.
  loadTestSet: (name) => fetchTestSet(name, { baseUrl: `${base}data/`, derive: true }),
  loadFeatureNet: (name) => fetchFeatureNet(name, { baseUrl: `${base}models/` }),
});

const host = createHost((e: WorkerEvent, transfer: Transferable[] = []) => scope.postMessage(e, transfer), handlers);
scope.addEventListener('message', (e: MessageEvent) => void host.receive(e.data));
scope.addEventListener('unhandledrejection', (e: PromiseRejectionEvent) =>
  scope.postMessage({
    type: 'error',
    runId: null,
    code: 'internal',
    message: String(e.reason?.message ?? e.reason),
  } satisfies WorkerEvent),
);
