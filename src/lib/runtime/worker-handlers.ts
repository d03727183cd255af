// What the worker does for each request. The TensorFlow.js-facing pieces come in as `deps`, so
// these handlers run in unit tests with fakes; worker.ts wires the real ones.
import type { LabelledSet } from '../data/binfile';
import type { DatasetName } from '../data/datasets';
import { datasetOf, gatherInputs, resolveParams } from '../experiments/resolve';
import type { AnyExperiment, ExperimentId, Params } from '../experiments/types';
import type { FarmerModel } from '../farmer/model';
import type { FeatureNet } from '../metrics/features';
import { sha256Hex } from '../util/hash';
import { checkTeacherHash, findTeacher, teacherNotFound, teacherOf } from '../io/teacher';
import type { ZooEntry } from '../io/zoo';
import { throwIfCancelled, type Handlers } from './host';
import { RunError, type BackendPreference, type BackendReport, type LoadedModel, type ModelSummary, type WorkerEnvironment, type WorkerReport } from './protocol';

/** What the page shows of a zoo entry. */
function summaryOf({ name, title, dataset, description, metrics }: ZooEntry): ModelSummary {
  return { name, title, dataset, description, ...(metrics ? { metrics } : {}) };
}

/** A model held by the worker: its summary (the file hash is added by the handler), the model itself, and how to free it. */
export interface ModelHandle {
  info: Omit<LoadedModel, 'hash'>;
  model: FarmerModel;
  dispose(): void;
}

export interface WorkerDeps {
  selectBackend(preferred: BackendPreference): Promise<BackendReport>;
  /** isolation and WebAssembly threads, read after the backend is selected */
  environment(): Promise<WorkerEnvironment>;
  fetch: typeof fetch;
  /** the app's root URL; the default index is `${base}models/index.json` */
  base: string;
  /** validates a parsed index.json; throws with a readable message when malformed */
  readZooIndex(raw: unknown): ZooEntry[];
  /** parses checkpoint bytes into weights on the active backend */
  loadCheckpoint(bytes: ArrayBuffer, name: string): Promise<ModelHandle>;
  /** an experiment by id (src/lib/experiments/catalog.ts loadExperiment) */
  loadExperiment(id: ExperimentId): Promise<AnyExperiment>;
  /** the test split of a dataset, e.g. from `${base}data/<file>.bin`; called once per dataset */
  loadTestSet(dataset: DatasetName): Promise<LabelledSet>;
  /** the dataset's feature network; called once per dataset, only when an experiment needs it */
  loadFeatureNet(dataset: DatasetName): Promise<FeatureNet>;
}

/** A loaded model and the runs using it: replaced models are disposed when their last run ends. */
interface ModelSlot {
  handle: ModelHandle;
  hash: string;
  users: number;
  retired: boolean;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Resolves like `p`, or rejects as cancelled as soon as `signal` aborts (`p` itself keeps going). */
function untilCancelled<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new RunError('cancelled', 'cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RunError('cancelled', 'cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Caches one promise per key; a rejected one is forgotten so that the next call tries again. */
function memo<T>(load: (key: DatasetName) => Promise<T>): (key: DatasetName) => Promise<T> {
  const cache = new Map<DatasetName, Promise<T>>();
  return (key) => {
    let p = cache.get(key);
    if (!p) {
      p = load(key);
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  };
}

/** Fetches a file; a 404, a network failure or an HTML fallback page count as missing. */
async function fetchFile(deps: WorkerDeps, url: string, what: string, signal: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await deps.fetch(url, { signal });
  } catch (e) {
    throwIfCancelled(signal);
    throw new RunError('not-found', `could not fetch ${what} at ${url}: ${e instanceof Error ? e.message : e}`);
  }
  if (!res.ok) throw new RunError('not-found', `no ${what} at ${url} (HTTP ${res.status})`);
  if ((res.headers.get('content-type') ?? '').includes('text/html'))
    throw new RunError('not-found', `no ${what} at ${url} (the server answered with an HTML page)`);
  return res;
}

export function createHandlers(deps: WorkerDeps): Handlers {
  let loaded: ModelSlot | null = null;
  /** the teacher of a student, kept while runs use it and until another teacher is needed */
  let teacher: Promise<ModelSlot> | null = null;
  let teacherHash = '';

  const retire = (slot: ModelSlot) => {
    slot.retired = true;
    if (slot.users === 0) slot.handle.dispose();
  };
  const release = (slot: ModelSlot) => {
    slot.users--;
    if (slot.retired && slot.users === 0) slot.handle.dispose();
  };

  const testSet = memo(async (name) => {
    try {
      return await deps.loadTestSet(name);
    } catch (e) {
      throw new RunError('not-found', `the ${name} test split could not be read: ${messageOf(e)}`);
    }
  });
  const featureNet = memo(async (name) => {
    try {
      return await deps.loadFeatureNet(name);
    } catch (e) {
      throw new RunError('not-found', `the ${name} feature network could not be read: ${messageOf(e)}`);
    }
  });

  async function readIndex(url: string, signal: AbortSignal): Promise<ZooEntry[]> {
    const text = await (await fetchFile(deps, url, 'model index', signal)).text();
    throwIfCancelled(signal);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new RunError('malformed', `${url} is not valid JSON: ${e instanceof Error ? e.message : e}`);
    }
    try {
      return deps.readZooIndex(raw);
    } catch (e) {
      throw new RunError('malformed', `${url} is malformed: ${e instanceof Error ? e.message : e}`);
    }
  }

  const indexUrl = (override?: string) => new URL(override ?? 'models/index.json', deps.base).href;

  /** The zoo file a student was distilled from, checked against the sha256 its card records. */
  async function fetchTeacher(info: ModelHandle['info'], signal: AbortSignal): Promise<ModelSlot> {
    let ref;
    try {
      ref = teacherOf(info.card);
    } catch (e) {
      throw new RunError('bad-request', `${info.name}: ${messageOf(e)}`);
    }
    if (teacher && teacherHash === ref.sha256) return teacher;
    const load = async (): Promise<ModelSlot> => {
      const url = indexUrl();
      const entries = await readIndex(url, signal);
      const entry = findTeacher(entries, ref);
      if (!entry) throw new RunError('not-found', teacherNotFound(ref, url));
      const bytes = await (await fetchFile(deps, new URL(entry.file, url).href, 'teacher checkpoint', signal)).arrayBuffer();
      const hash = await sha256Hex(bytes);
      try {
        checkTeacherHash(ref, `${entry.name} in ${url}`, hash);
      } catch (e) {
        throw new RunError('malformed', messageOf(e));
      }
      return { handle: await deps.loadCheckpoint(bytes, entry.name), hash, users: 0, retired: false };
    };
    const previous = teacher;
    const next = load();
    teacher = next;
    teacherHash = ref.sha256;
    next.then(() => previous?.then(retire, () => undefined), () => {
      if (teacher === next) [teacher, teacherHash] = [null, ''];
    });
    return next;
  }

  return {
    async init({ backend }, ctx) {
      const report: WorkerReport = { ...(await deps.selectBackend(backend)), environment: await deps.environment() };
      ctx.emit({ type: 'ready', report });
      return report;
    },

    async listModels(req, { signal }) {
      const url = indexUrl(req.indexUrl);
      return { url, models: (await readIndex(url, signal)).map(summaryOf) };
    },

    async loadModel(req, { signal, progress }) {
      let bytes: ArrayBuffer;
      let name: string;
      if ('bytes' in req) {
        bytes = req.bytes;
        name = req.name ?? 'uploaded checkpoint';
      } else {
        const url = indexUrl();
        const entry = (await readIndex(url, signal)).find((e) => e.name === req.name);
        if (!entry) throw new RunError('not-found', `no model named "${req.name}" in ${url}`);
        progress(0, 1, 'downloading');
        bytes = await (await fetchFile(deps, new URL(entry.file, url).href, 'checkpoint', signal)).arrayBuffer();
        name = req.name;
      }
      throwIfCancelled(signal);
      const hash = await sha256Hex(bytes);
      const handle = await deps.loadCheckpoint(bytes, name);
      if (signal.aborted) {
        handle.dispose();
        throwIfCancelled(signal);
      }
      if (loaded) retire(loaded);
      loaded = { handle, hash, users: 0, retired: false };
      progress(1, 1, 'loaded');
      return { ...handle.info, hash };
    },

    async runExperiment(req, { signal, progress, partial }) {
      if (!loaded) throw new RunError('bad-request', 'no model is loaded: load one before running an experiment');
      const slot = loaded;
      slot.users++;
      const teachers: ModelSlot[] = [];
      try {
        const start = performance.now();
        let experiment: AnyExperiment;
        try {
          experiment = await deps.loadExperiment(req.experiment);
        } catch (e) {
          throw new RunError('not-found', messageOf(e));
        }
        throwIfCancelled(signal);
        const { model, info } = slot.handle;
        let params: Params;
        try {
          params = resolveParams(experiment, model, req.params, req.seed);
        } catch (e) {
          throw new RunError('bad-request', messageOf(e));
        }
        let dataset: DatasetName;
        try {
          dataset = datasetOf(info.card, info.name);
        } catch (e) {
          throw new RunError('not-found', messageOf(e));
        }
        const inputs = await gatherInputs(
          experiment, dataset, info.card,
          {
            testSet: (name) => untilCancelled(testSet(name), signal),
            featureNet: (name) => untilCancelled(featureNet(name), signal),
            teacher: async () => {
              progress(0, 1, 'loading the teacher');
              const t = await untilCancelled(fetchTeacher(info, signal), signal);
              t.users++;
              teachers.push(t);
              return t.handle.model;
            },
          },
          req.image,
        );
        throwIfCancelled(signal);
        const result = await experiment.run(model, inputs, params, { onProgress: progress, onPartial: partial, signal });
        return { params, result, elapsedMs: performance.now() - start };
      } finally {
        release(slot);
        for (const t of teachers) release(t);
      }
    },
  };
}
