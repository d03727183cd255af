// What the worker does for each request. The TensorFlow.js-facing pieces come in as `deps`, so
// these handlers run in unit tests with fakes; worker.ts wires the real ones.
import { throwIfCancelled, type Handlers } from './host';
import { RunError, type BackendPreference, type BackendReport, type LoadedModel, type ModelSummary } from './protocol';

/** A zoo entry: what the page shows and where its checkpoint lives (relative to the index). */
export interface ZooEntry {
  summary: ModelSummary;
  file: string;
}

/** A model held by the worker. */
export interface ModelHandle {
  info: LoadedModel;
  dispose(): void;
}

export interface WorkerDeps {
  selectBackend(preferred: BackendPreference): Promise<BackendReport>;
  fetch: typeof fetch;
  /** the app's root URL; the default index is `${base}models/index.json` */
  base: string;
  /** validates a parsed index.json; throws with a readable message when malformed */
  readZooIndex(raw: unknown): ZooEntry[];
  /** parses checkpoint bytes into weights on the active backend */
  loadCheckpoint(bytes: ArrayBuffer, name: string): Promise<ModelHandle>;
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
  let loaded: ModelHandle | null = null;

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

  return {
    async init({ backend }, ctx) {
      const report = await deps.selectBackend(backend);
      ctx.emit({ type: 'ready', report });
      return report;
    },

    async listModels(req, { signal }) {
      const url = indexUrl(req.indexUrl);
      return { url, models: (await readIndex(url, signal)).map((e) => e.summary) };
    },

    async loadModel(req, { signal, progress }) {
      let bytes: ArrayBuffer;
      let name: string;
      if ('bytes' in req) {
        bytes = req.bytes;
        name = req.name ?? 'uploaded checkpoint';
      } else {
        const url = indexUrl();
        const entry = (await readIndex(url, signal)).find((e) => e.summary.name === req.name);
        if (!entry) throw new RunError('not-found', `no model named "${req.name}" in ${url}`);
        progress(0, 1, 'downloading');
        bytes = await (await fetchFile(deps, new URL(entry.file, url).href, 'checkpoint', signal)).arrayBuffer();
        name = req.name;
      }
      throwIfCancelled(signal);
      const model = await deps.loadCheckpoint(bytes, name);
      if (signal.aborted) {
        model.dispose();
        throwIfCancelled(signal);
      }
      loaded?.dispose();
      loaded = model;
      progress(1, 1, 'loaded');
      return model.info;
    },
  };
}
