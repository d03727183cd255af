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
import {
  backendNames,
  RunError,
  type BackendName,
  type BackendPreference,
  type BackendReport,
  type LoadedModel,
  type ModelSummary,
  type WorkerEnvironment,
  type WorkerReport,
} from './protocol';
import {
  chooseBackends,
  timingKey,
  workKindOf,
  type BackendChoice,
  type BackendTimes,
  type TimingStore,
} from './backend-choice';

/** What the page shows of a zoo entry. */
function summaryOf({ name, title, dataset, description, metrics }: ZooEntry): ModelSummary {
  return { name, title, dataset, description, ...(metrics ? { metrics } : {}) };
}

/** A model held by the worker: its summary (the file hash is added by the handler), the model itself, and how to free it. */
export interface ModelHandle {
  info: Omit<LoadedModel, 'hash' | 'backends'>;
  model: FarmerModel;
  dispose(): void;
}

export interface WorkerDeps {
  selectBackend(preferred: BackendPreference): Promise<BackendReport>;
  /** makes `name` the active backend, verified by a computation; false when it does not work */
  useBackend(name: BackendName): Promise<boolean>;
  /** a model's probe timings on the active backend (src/lib/farmer/probe.ts) */
  probe(model: FarmerModel): Promise<BackendTimes>;
  /** names this device for the timing cache: adapter, cores, browser */
  machine(): Promise<string>;
  /** where timings are kept between visits (IndexedDB in the page) */
  timings: TimingStore;
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

/**
 * A loaded model and the runs using it: replaced models are disposed when their last run ends.
 * Its weights live on each backend that needs them (made from the file's bytes on first use).
 */
interface ModelSlot {
  bytes: ArrayBuffer;
  name: string;
  /** by backend (before init: one unnamed entry) */
  handles: Map<string, ModelHandle>;
  hash: string;
  users: number;
  retired: boolean;
  /** with ?backend= unset: the backend each kind of work runs on, by measurement */
  choice: BackendChoice | null;
}

function disposeSlot(slot: ModelSlot): void {
  for (const h of slot.handles.values()) h.dispose();
  slot.handles.clear();
}

/** Backends worth timing: each that did not fail or get skipped at selection, but cpu only when wasm is out (it is never faster). */
export function probeCandidates(report: BackendReport): BackendName[] {
  const usable = backendNames.filter((n) => !report.attempts.some((a) => a.name === n && !a.ok));
  const list = usable.includes('wasm') ? usable.filter((n) => n !== 'cpu') : usable;
  return [report.active, ...list.filter((n) => n !== report.active)];
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

/** Caches one promise per key (and `variant`); a rejected one is forgotten so that the next call tries again. */
function memo<T>(load: (key: DatasetName) => Promise<T>): (key: DatasetName, variant?: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key, variant = '') => {
    const k = `${variant}:${key}`;
    let p = cache.get(k);
    if (!p) {
      p = load(key);
      cache.set(k, p);
      p.catch(() => cache.delete(k));
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
  /** what init asked for and found, and the backend tfjs runs on now */
  let preference: BackendPreference = 'auto';
  let selection: BackendReport | null = null;
  let active: BackendName | null = null;

  const retire = (slot: ModelSlot) => {
    slot.retired = true;
    if (slot.users === 0) disposeSlot(slot);
  };
  const release = (slot: ModelSlot) => {
    slot.users--;
    if (slot.retired && slot.users === 0) disposeSlot(slot);
  };
  const here = () => active ?? 'unselected';
  const newSlot = (bytes: ArrayBuffer, name: string, handle: ModelHandle, hash: string): ModelSlot => ({
    bytes,
    name,
    handles: new Map([[here(), handle]]),
    hash,
    users: 0,
    retired: false,
    choice: null,
  });

  /** The slot's weights on the active backend, made from its bytes the first time. */
  async function handleOn(slot: ModelSlot): Promise<ModelHandle> {
    const backend = here();
    let h = slot.handles.get(backend);
    if (!h) {
      h = await deps.loadCheckpoint(slot.bytes, slot.name);
      slot.handles.set(backend, h);
    }
    return h;
  }

  async function switchTo(name: BackendName): Promise<boolean> {
    if (name === active) return true;
    if (!(await deps.useBackend(name))) return false;
    active = name;
    return true;
  }

  /** The backends a model's kinds of work run on: timed on each usable backend the first time, then from the store. */
  async function chooseFor(
    slot: ModelSlot,
    progress: (done: number, total: number, label?: string) => void,
  ): Promise<BackendChoice> {
    const start = active!;
    const key = timingKey(await deps.machine(), slot.hash);
    const stored = await deps.timings.get(key);
    if (stored)
      return {
        timings: stored.timings,
        chosen: chooseBackends(stored.timings, start),
        source: 'cached',
        at: stored.at,
      };
    const timings: BackendChoice['timings'] = {};
    const candidates = probeCandidates(selection!);
    for (const [i, name] of candidates.entries()) {
      progress(i, candidates.length, `timing ${name}`);
      try {
        if (!(await switchTo(name))) {
          timings[name] = { error: 'did not start' };
          continue;
        }
        timings[name] = await deps.probe((await handleOn(slot)).model);
      } catch (e) {
        timings[name] = { error: messageOf(e) };
      }
    }
    if (!(await switchTo(start)))
      throw new RunError('internal', `could not return to the ${start} backend after timing`);
    const at = Date.now();
    await deps.timings.put(key, { timings, at });
    const chosen = chooseBackends(timings, start);
    // keep the weights only where work will run
    for (const [name, h] of slot.handles) {
      if (name !== start && !(Object.values(chosen) as string[]).includes(name)) {
        h.dispose();
        slot.handles.delete(name);
      }
    }
    return { timings, chosen, source: 'measured', at };
  }

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
      const bytes = await (
        await fetchFile(deps, new URL(entry.file, url).href, 'teacher checkpoint', signal)
      ).arrayBuffer();
      const hash = await sha256Hex(bytes);
      try {
        checkTeacherHash(ref, `${entry.name} in ${url}`, hash);
      } catch (e) {
        throw new RunError('malformed', messageOf(e));
      }
      return newSlot(bytes, entry.name, await deps.loadCheckpoint(bytes, entry.name), hash);
    };
    const previous = teacher;
    const next = load();
    teacher = next;
    teacherHash = ref.sha256;
    next.then(
      () => previous?.then(retire, () => undefined),
      () => {
        if (teacher === next) [teacher, teacherHash] = [null, ''];
      },
    );
    return next;
  }

  return {
    async init({ backend }, ctx) {
      const selected = await deps.selectBackend(backend);
      [preference, selection, active] = [backend, selected, selected.active];
      const report: WorkerReport = { ...selected, environment: await deps.environment() };
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
      const slot = newSlot(bytes, name, handle, hash);
      loaded = slot;
      // the first time a model runs on this machine, time it on each backend (not when ?backend= forces one)
      if (preference === 'auto' && selection) slot.choice = await chooseFor(slot, progress);
      progress(1, 1, 'loaded');
      return { ...handle.info, hash, backends: slot.choice };
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
        const kind = workKindOf(req.experiment);
        if (slot.choice) await switchTo(slot.choice.chosen[kind]); // a backend that fails to start leaves the current one
        const { model, info } = await handleOn(slot);
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
          experiment,
          dataset,
          info.card,
          {
            testSet: (name) => untilCancelled(testSet(name), signal),
            featureNet: (name) => untilCancelled(featureNet(name, here()), signal), // its weights live on one backend
            teacher: async () => {
              progress(0, 1, 'loading the teacher');
              const t = await untilCancelled(fetchTeacher(info, signal), signal);
              t.users++;
              teachers.push(t);
              return (await handleOn(t)).model;
            },
          },
          req.image,
        );
        throwIfCancelled(signal);
        const result = await experiment.run(model, inputs, params, {
          onProgress: progress,
          onPartial: partial,
          signal,
        });
        return { params, result, elapsedMs: performance.now() - start };
      } finally {
        release(slot);
        for (const t of teachers) release(t);
      }
    },
  };
}
