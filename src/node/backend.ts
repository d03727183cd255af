// Node's side of backend selection: WebGPU through the `webgpu` package (Dawn), no WebGL, and
// the wasm backend finds its .wasm files by itself. Never imported by browser code.
import {
  describeBackend,
  selectBackend,
  type BackendHost,
  type BackendName,
  type BackendReport,
  type GpuLike,
} from '../lib/tf/backend';
import { useFastMatMulGradient } from '../lib/tf/matmul-grad';

const VULKAN_ENV = {
  LD_LIBRARY_PATH: '/usr/lib/chromium',
  VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json',
};

let installed: GpuLike | string | undefined;

/** Puts Dawn's navigator.gpu and GPU* globals in place once, before tfjs-backend-webgpu is imported. */
async function installDawn(): Promise<GpuLike | string> {
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch (e) {
    return `the webgpu package (Dawn) failed to load: ${e instanceof Error ? e.message : String(e)}`;
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]) as unknown as GpuLike;
  // Node ≥ 21 has a navigator of its own; Node 20 has none.
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return gpu;
}

export const nodeHost: BackendHost = {
  kind: 'node',
  async webgpu() {
    installed ??= await installDawn();
    return installed;
  },
  adapterHint() {
    const missing = Object.entries(VULKAN_ENV).filter(([k]) => !process.env[k]);
    const env = Object.entries(VULKAN_ENV)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return missing.length
      ? `: Dawn found no Vulkan driver; start node with ${env} (${missing.map(([k]) => k).join(', ')} unset in this process)`
      : `: Dawn found no usable Vulkan driver although ${Object.keys(VULKAN_ENV).join(' and ')} are set (wanted: ${env})`;
  },
  async webglRenderer() {
    return { missing: 'no WebGL in Node' };
  },
  async prepareWasm() {},
};

/**
 * The command line's backend: `name` itself or an error naming why (never a silent fallback),
 * with the explicit-transpose matMul gradient (matmul-grad.ts) registered.
 */
export async function useBackend(name: BackendName): Promise<BackendReport> {
  const report = await selectBackend(name, { host: nodeHost, fallback: false, allowSoftwareGpu: true });
  if (report.active !== name) throw new Error(`backend ${name} is not available: ${describeBackend(report)}`);
  useFastMatMulGradient(true);
  return report;
}
