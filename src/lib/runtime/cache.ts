// Results of finished runs in IndexedDB, so that a reload shows them without recomputing. A key
// is (model file hash, cell id, parameters, seed, code version); without IndexedDB (private
// windows, old browsers, Node) every lookup misses and nothing fails.

/** Bump when an experiment's numbers or result shape change, so older cached results are not shown. */
export const CODE_VERSION = 3;

export interface CacheKeyParts {
  /** SHA-256 of the model file (LoadedModel.hash) */
  modelHash: string;
  /** the cell's id within its notebook, e.g. "separation" */
  cellId: string;
  /** the parameters the run used */
  params: Record<string, unknown>;
  /** null for runs without randomness */
  seed: number | null;
  codeVersion?: number;
}

/** JSON with object keys sorted at every level: equal values give equal strings. */
export function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  if (typeof value === 'number' && Object.is(value, -0)) return '0';
  return JSON.stringify(value) ?? 'null';
}

export function cacheKey({ modelHash, cellId, params, seed, codeVersion = CODE_VERSION }: CacheKeyParts): string {
  return `v${codeVersion}|${modelHash}|${cellId}|seed=${seed ?? '-'}|${canonicalJSON(params)}`;
}

/** What is stored for a key. */
export interface CachedRun<R = unknown> {
  result: R;
  /** the parameters the run used */
  params: Record<string, unknown>;
  /** how long it computed, ms */
  elapsedMs: number;
  /** when it was stored, ms since the epoch */
  storedAt: number;
}

export interface ResultCache {
  /** false when IndexedDB is missing or refused; then get misses and put does nothing */
  readonly available: boolean;
  get<R>(key: string): Promise<CachedRun<R> | undefined>;
  /** true when stored (a refused value, e.g. over quota, is not an error) */
  put<R>(key: string, run: CachedRun<R>): Promise<boolean>;
  clear(): Promise<void>;
}

const STORE = 'results';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function openDatabase(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = factory.open(name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error('the cache database is blocked by another tab'));
  });
}

/**
 * A cache in the IndexedDB database `name` of `factory` (the page's indexedDB by default). The
 * database opens on first use; if it cannot, the cache turns itself off.
 */
export function openResultCache(
  factory: IDBFactory | undefined = globalThis.indexedDB,
  name = 'farmer-workbench',
): ResultCache {
  let db: Promise<IDBDatabase | null> | null = null;
  let available = factory !== undefined;
  const database = () =>
    (db ??= (async () => {
      if (!factory) return null;
      try {
        return await openDatabase(factory, name);
      } catch {
        available = false;
        return null;
      }
    })());
  async function withStore<T>(
    mode: IDBTransactionMode,
    fn: (s: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T | undefined> {
    const d = await database();
    if (!d) return undefined;
    try {
      return await request(fn(d.transaction(STORE, mode).objectStore(STORE)));
    } catch {
      return undefined;
    }
  }
  return {
    get available() {
      return available;
    },
    get: <R>(key: string) => withStore('readonly', (s) => s.get(key)) as Promise<CachedRun<R> | undefined>,
    async put(key, run) {
      return (await withStore('readwrite', (s) => s.put(run, key))) !== undefined;
    },
    async clear() {
      await withStore('readwrite', (s) => s.clear());
    },
  };
}

/** A cache that remembers nothing (IndexedDB unavailable, or tests). */
export const noCache: ResultCache = {
  available: false,
  get: async () => undefined,
  put: async () => false,
  clear: async () => {},
};
