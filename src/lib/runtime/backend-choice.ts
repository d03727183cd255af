// Choosing a backend by measurement: the first time a model runs on a machine, the worker times a
// tiny probe (src/lib/farmer/probe.ts) on each backend that works, keeps the timings in IndexedDB
// under (machine, model), and runs each kind of work on the backend that was faster at it.
// `?backend=` still forces one backend for everything. No TensorFlow.js here.
import type { ExperimentId } from '../experiments/catalog';
import type { BackendName } from '../tf/backend';

/** Kinds of work whose speed differs by backend: forward passes over images, and sequential sampling steps. */
export type WorkKind = 'forward' | 'sample';

export const workKinds: readonly WorkKind[] = ['forward', 'sample'];

/** ms per image of a forward pass and ms per sampling step, of one backend. */
export interface BackendTimes {
  forwardMs: number;
  sampleStepMs: number;
}

export interface BackendChoice {
  /** what each backend measured; a backend that failed to run the probe has its reason instead */
  timings: Partial<Record<BackendName, BackendTimes | { error: string }>>;
  /** the backend each kind of work runs on */
  chosen: Record<WorkKind, BackendName>;
  /** 'measured': just now; 'cached': from an earlier visit (IndexedDB) */
  source: 'measured' | 'cached';
  /** when the timings were taken, ms since the epoch */
  at: number;
}

/** The kind of work an experiment spends its time on: likelihood is forward passes; the others decode sequentially. */
export function workKindOf(id: ExperimentId): WorkKind {
  return id === 'likelihood' ? 'forward' : 'sample';
}

const timeOf: Record<WorkKind, keyof BackendTimes> = { forward: 'forwardMs', sample: 'sampleStepMs' };

/** Per kind, the backend with the smallest time; `fallback` when none measured. */
export function chooseBackends(
  timings: BackendChoice['timings'],
  fallback: BackendName,
): Record<WorkKind, BackendName> {
  const measured = Object.entries(timings).filter((e): e is [BackendName, BackendTimes] => !('error' in e[1]!));
  const best = (kind: WorkKind) =>
    measured.reduce<[BackendName, number] | null>(
      (b, [name, t]) => (b === null || t[timeOf[kind]] < b[1] ? [name, t[timeOf[kind]]] : b),
      null,
    )?.[0] ?? fallback;
  return { forward: best('forward'), sample: best('sample') };
}

/** Timings as stored: what each backend measured, and when. */
export interface StoredTimings {
  timings: BackendChoice['timings'];
  at: number;
}

/** Where timings are kept between visits. */
export interface TimingStore {
  get(key: string): Promise<StoredTimings | undefined>;
  put(key: string, value: StoredTimings): Promise<void>;
}

/** The key of a model's timings on this machine: the device (adapter, cores, browser) and the model's file hash. */
export function timingKey(machine: string, modelHash: string): string {
  return `${machine}\n${modelHash}`;
}

/** An in-memory store (tests, and pages where IndexedDB is unavailable). */
export function memoryStore(): TimingStore & { size(): number } {
  const map = new Map<string, StoredTimings>();
  return {
    async get(key) {
      return map.get(key);
    },
    async put(key, value) {
      map.set(key, value);
    },
    size: () => map.size,
  };
}

const DB = 'farmer-backend-timings';
const STORE = 'timings';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** Timings in IndexedDB (database farmer-backend-timings); falls back to memory when it cannot open. */
export function indexedDbStore(factory: IDBFactory | undefined = globalThis.indexedDB): TimingStore {
  const fallback = memoryStore();
  const db: Promise<IDBDatabase | null> = (async () => {
    if (!factory) return null;
    try {
      const open = factory.open(DB, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE);
      return await request(open);
    } catch {
      return null;
    }
  })();
  return {
    async get(key) {
      const d = await db;
      if (!d) return fallback.get(key);
      return (await request(d.transaction(STORE).objectStore(STORE).get(key))) as StoredTimings | undefined;
    },
    async put(key, value) {
      const d = await db;
      if (!d) return fallback.put(key, value);
      await request(d.transaction(STORE, 'readwrite').objectStore(STORE).put(value, key));
    },
  };
}
