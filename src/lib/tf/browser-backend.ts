// The browser's side of backend selection: navigator.gpu as the page has it, the WebGL renderer
// name, and the wasm binaries at the URLs Vite serves them from. Never imported in Node.
/// <reference types="vite/client" />
import type { BackendHost, GpuLike } from './backend';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

let wasmPathsSet = false;

export const browserHost: BackendHost = {
  kind: 'browser',
  async webgpu() {
    const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
    if (gpu) return gpu;
    return globalThis.isSecureContext === false
      ? 'navigator.gpu missing: the page is not a secure context (serve it from https or localhost)'
      : 'navigator.gpu missing: this browser has no WebGPU (Chromium needs --enable-unsafe-webgpu on Linux)';
  },
  adapterHint() {
    return ': no WebGPU adapter (headless Chromium needs --enable-unsafe-webgpu)';
  },
  async webglRenderer() {
    const canvas =
      typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return { missing: 'no WebGL context could be created' };
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return renderer;
  },
  async prepareWasm() {
    if (wasmPathsSet) return;
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmUrl,
      'tfjs-backend-wasm-simd.wasm': simdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdUrl,
    });
    wasmPathsSet = true;
  },
};
