import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

/** Cross-origin isolation, so the wasm backend may use threads (SharedArrayBuffer). */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [svelte()],
  publicDir: 'static',
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: {
    format: 'es',
    // tfjs-backend-wasm starts its pthreads from `factory.toString()`; the minifier's compress
    // pass breaks that source ("e is not defined" in every thread), so the worker bundle is
    // only mangled and stripped of whitespace.
    rolldownOptions: { output: { minify: { compress: false, mangle: true } } },
  },
  optimizeDeps: {
    // The worker is not reachable from index.html by the dependency scanner; list it as an
    // entry so TensorFlow.js is pre-bundled up front instead of triggering a reload when the
    // worker first imports it.
    entries: ['index.html', 'src/lib/runtime/worker.ts'],
    include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'],
  },
  build: { target: 'es2022' },
});
