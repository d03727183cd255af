// Backend selection that says what it tried: webgpu → webgl → wasm → cpu, each registered lazily,
// switched to with tf.setBackend (whose `false` is checked) and proven by a tiny computation.
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** The order `auto` tries; a named backend is tried first, then these. */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(s);
}

export interface BackendAttempt {
  name: BackendName;
  /** tf.setBackend was called for it (false: skipped before that) */
  tried: boolean;
  /** it is registered, switched to and computed the check correctly */
  ok: boolean;
  /** why it was skipped or failed; on success what it runs on */
  reason: string;
}

export interface BackendReport {
  /** the backend tf now uses */
  active: BackendName;
  requested: BackendName | 'auto';
  /** in the order tried; stops at the first that works */
  attempts: BackendAttempt[];
}

/** The little of WebGPU this module touches (TypeScript's DOM lib has no WebGPU types). */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<GpuAdapterLike | null>;
}
export interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

/** What differs between a browser and Node: supplied by browser-backend.ts or src/node/backend.ts. */
export interface BackendHost {
  kind: 'browser' | 'node';
  /** navigator.gpu, installed first where the host must (Node: Dawn), or why there is none */
  webgpu(): Promise<GpuLike | string>;
  /** appended to the reason when requestAdapter returns null */
  adapterHint(): string;
  /** the WebGL renderer's name, or why there is no WebGL */
  webglRenderer(): Promise<string | { missing: string }>;
  /** tells the wasm backend where its .wasm files are served, where the host must */
  prepareWasm(): Promise<void>;
}

export interface SelectOptions {
  /** after the requested backend fails, try the others in BACKEND_ORDER; default true */
  fallback?: boolean;
  /**
   * use a software GPU (SwiftShader, llvmpipe) even when it was not requested by name;
   * default false, since wasm is 10–80× faster than software WebGPU/WebGL
   */
  allowSoftwareGpu?: boolean;
  /** give up on a backend whose check computation has not finished by then; default 60 s */
  verifyTimeoutMs?: number;
  /** required in Node (src/node/backend.ts); in a page or worker, browser-backend.ts by default */
  host?: BackendHost;
}

const SOFTWARE_GPU = /swiftshader|llvmpipe|lavapipe|softpipe|basic render|software/i;

function isNode(): boolean {
  return typeof window === 'undefined' && typeof process !== 'undefined' && !!process.versions?.node;
}

async function detectHost(): Promise<BackendHost> {
  // Node code lives under src/node/ and is never imported from here (browser builds would pull in Dawn).
  if (isNode())
    throw new Error(
      'in Node, pass the host: selectBackend(name, { host: nodeHost }) with nodeHost from src/node/backend.ts',
    );
  return (await import('./browser-backend')).browserHost;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function registered(name: BackendName): boolean {
  return tf.findBackendFactory(name) != null;
}

type Prepared = { skip: string } | { detail: string };

async function prepareWebgpu(host: BackendHost, explicit: boolean, allowSoftware: boolean): Promise<Prepared> {
  const gpu = await host.webgpu();
  if (typeof gpu === 'string') return { skip: gpu };
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { skip: `requestAdapter threw: ${message(e)}` };
  }
  if (!adapter) return { skip: `requestAdapter returned null${host.adapterHint()}` };
  const info = adapter.info ?? {};
  const name = info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  const everything = [info.description, info.vendor, info.architecture, info.device].join(' ');
  const software = !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || SOFTWARE_GPU.test(everything);
  if (software && !explicit && !allowSoftware)
    return { skip: `software adapter (${name}) skipped: slower than wasm; request webgpu by name to use it` };
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    return { skip: `@tensorflow/tfjs-backend-webgpu failed to load: ${message(e)}` };
  }
  // The package registers itself at import only if navigator.gpu existed then.
  if (!registered('webgpu'))
    return { skip: 'not registered: @tensorflow/tfjs-backend-webgpu was imported before navigator.gpu existed' };
  return { detail: `adapter ${name}${software ? ' (software)' : ''}` };
}

async function prepareWebgl(host: BackendHost, explicit: boolean, allowSoftware: boolean): Promise<Prepared> {
  if (!registered('webgl'))
    return { skip: host.kind === 'node' ? 'not registered: WebGL exists only in browsers' : 'not registered' };
  const renderer = await host.webglRenderer();
  if (typeof renderer !== 'string') return { skip: renderer.missing };
  const software = SOFTWARE_GPU.test(renderer);
  if (software && !explicit && !allowSoftware)
    return { skip: `software renderer (${renderer}) skipped: slower than wasm; request webgl by name to use it` };
  return { detail: `renderer ${renderer}${software ? ' (software)' : ''}` };
}

async function prepareWasm(host: BackendHost): Promise<Prepared> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    await host.prepareWasm();
  } catch (e) {
    return { skip: `@tensorflow/tfjs-backend-wasm failed to load: ${message(e)}` };
  }
  if (!registered('wasm')) return { skip: 'not registered' };
  return { detail: 'WebAssembly' };
}

async function prepare(
  name: BackendName,
  host: BackendHost,
  explicit: boolean,
  allowSoftware: boolean,
): Promise<Prepared> {
  switch (name) {
    case 'webgpu':
      return prepareWebgpu(host, explicit, allowSoftware);
    case 'webgl':
      return prepareWebgl(host, explicit, allowSoftware);
    case 'wasm':
      return prepareWasm(host);
    case 'cpu':
      return registered('cpu') ? { detail: 'plain JavaScript' } : { skip: 'not registered' };
  }
}

/** tf.setBackend, with the reason tfjs only logs (it warns and returns false) captured. */
async function switchTo(name: BackendName): Promise<string | null> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  };
  try {
    if (await tf.setBackend(name)) return null;
  } catch (e) {
    return `setBackend threw: ${message(e)}`;
  } finally {
    console.warn = warn;
  }
  const why = warnings
    .filter((w) => !/^Initialization of backend .* failed$/.test(w.trim()))
    .map((w) => w.split('\n')[0].replace(/^Error: /, ''));
  return `setBackend returned false${why.length ? `: ${why.join('; ')}` : ''}`;
}

/** [[1,2],[3,4]]² + 1 computed on the active backend. */
async function verify(timeoutMs: number): Promise<string | null> {
  const expected = [8, 11, 16, 23];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let y: tf.Tensor | undefined;
  try {
    y = tf.tidy(() => {
      const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
      return tf.matMul(a, a).add(1);
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result after ${timeoutMs} ms`)), timeoutMs);
    });
    const got = Array.from(await Promise.race([y.data(), timeout]));
    if (got.some((v, i) => !(Math.abs(v - expected[i]) <= 1e-4)))
      return `check computed [${got}] instead of [${expected}]`;
    return null;
  } catch (e) {
    return `check computation failed: ${message(e)}`;
  } finally {
    clearTimeout(timer);
    y?.dispose();
  }
}

/**
 * Makes the best working backend active: `preferred` first (when named), then webgpu, webgl,
 * wasm, cpu. Never trusts tf.setBackend alone: a backend counts only after computing a check.
 */
export async function selectBackend(
  preferred: BackendName | 'auto' = 'auto',
  options: SelectOptions = {},
): Promise<BackendReport> {
  const { fallback = true, allowSoftwareGpu = false, verifyTimeoutMs = 60_000 } = options;
  if (preferred !== 'auto' && !isBackendName(preferred))
    throw new Error(`invalid backend ${JSON.stringify(preferred)}`);
  const host = options.host ?? (await detectHost());
  const candidates =
    preferred === 'auto'
      ? [...BACKEND_ORDER]
      : fallback
        ? [preferred, ...BACKEND_ORDER.filter((b) => b !== preferred)]
        : [preferred];
  const attempts: BackendAttempt[] = [];
  for (const name of candidates) {
    const prepared = await prepare(name, host, name === preferred, allowSoftwareGpu);
    if ('skip' in prepared) {
      attempts.push({ name, tried: false, ok: false, reason: prepared.skip });
      continue;
    }
    const failed = (await switchTo(name)) ?? (await verify(verifyTimeoutMs));
    attempts.push({ name, tried: true, ok: !failed, reason: failed ?? `verified on ${prepared.detail}` });
    if (!failed) return { active: name, requested: preferred, attempts };
  }
  throw new Error(`no working tfjs backend: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`);
}

/** One line for logs, e.g. `wasm (requested webgpu; webgpu: requestAdapter returned null…)`. */
export function describeBackend(report: BackendReport): string {
  const failed = report.attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
  const substituted = report.requested !== 'auto' && report.requested !== report.active;
  const notes = [substituted ? `requested ${report.requested}` : '', ...failed].filter(Boolean);
  return notes.length ? `${report.active} (${notes.join('; ')})` : report.active;
}

/**
 * Disposes the GPU backends that were started (destroying their devices), so that Node exits at
 * once: a live Dawn device keeps the process up for seconds. Those backends are gone afterwards.
 */
export function releaseGpuBackends(): void {
  const started = tf.engine().registry;
  for (const name of ['webgpu', 'webgl'] as const) if (started[name]) tf.removeBackend(name);
}
