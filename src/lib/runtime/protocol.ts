// The one schema spoken across the worker boundary. The main thread sends `Request`s, the
// worker answers with `WorkerEvent`s. Every request is a run with its own `runId`; it ends with
// exactly one `result` or `error` event carrying that id, and may emit `progress` and `partial`
// events before.
// To add a compute request: add an entry to `RequestMap` and a handler in worker-handlers.ts.
import { isExperimentId, type ExperimentId } from '../experiments/catalog';
import type { ParamValue } from '../experiments/params';
import type { ImageInput, Params as ExperimentParams } from '../experiments/types';
import type { FarmerConfig } from '../farmer/config';
import type { BackendAttempt, BackendName, BackendReport } from '../tf/backend';
import type { BackendChoice } from './backend-choice';

// The backend report is src/lib/tf/backend.ts's own type (a type-only import: no tfjs here).
export type { BackendAttempt, BackendName, BackendReport };
export type { ExperimentId, ExperimentParams, ImageInput, ParamValue };
export type BackendPreference = BackendName | 'auto';

/** Where the worker runs, as far as speed goes. */
export interface WorkerEnvironment {
  /** the page is cross-origin isolated (COOP/COEP headers): SharedArrayBuffer, so WebAssembly threads */
  crossOriginIsolated: boolean;
  /** threads the WebAssembly backend runs on; null while it is not the active backend */
  wasmThreads: number | null;
}

/** What `init` answers: the backend selection and the environment. */
export type WorkerReport = BackendReport & { environment: WorkerEnvironment };

/** The order `auto` tries backends in (the same as backend.ts's BACKEND_ORDER). */
export const backendNames = ['webgpu', 'webgl', 'wasm', 'cpu'] as const satisfies readonly BackendName[];

/** A model as the zoo page lists it. */
export interface ModelSummary {
  /** id for `loadModel {name}` and `npx --no -- farmer <command> <name>` */
  name: string;
  title: string;
  dataset: string;
  description: string;
  /** the index's headline metrics (test BPD, FID/IS/P/R with their feature network), if any */
  metrics?: Record<string, number>;
}

export interface ZooListing {
  /** where the index was read from */
  url: string;
  models: ModelSummary[];
}

/** A model now held by the worker. */
export interface LoadedModel {
  name: string;
  /** total number of float parameters */
  parameters: number;
  config: FarmerConfig;
  /** training card from the checkpoint metadata (dataset, steps, metrics, …) */
  card: Record<string, unknown>;
  /** SHA-256 of the checkpoint file, lowercase hex: the model's part of a cache key */
  hash: string;
  /** the backend each kind of work runs on, by measurement; null when ?backend= forces one */
  backends: BackendChoice | null;
}

/** What `runExperiment` sends: parameters, resolved again by the worker (src/lib/experiments/resolve.ts). */
export interface ExperimentRequest {
  experiment: ExperimentId;
  /** parameters, parsed or as text (missing ones take the experiment's defaults for the loaded model) */
  params: Record<string, ParamValue>;
  /** seeds every random draw; set as the `seed` parameter of experiments that have one */
  seed?: number;
  /** an uploaded or drawn image at the model's input size (its pixels are moved, not copied) */
  image?: ImageInput;
}

/** What a finished `runExperiment` answers. */
export interface ExperimentOutcome {
  /** the parameters the run used, parsed (every field present) */
  params: ExperimentParams;
  /** the experiment's result R (structured-cloned; typed arrays allowed) */
  result: unknown;
  /** compute time in the worker, ms (inputs included) */
  elapsedMs: number;
}

export type ModelSource = { name: string } | { bytes: ArrayBuffer; name?: string };

/** Request type → its parameters and the value of its `result` event. */
export interface RequestMap {
  init: { params: { backend: BackendPreference }; result: WorkerReport };
  listModels: { params: { indexUrl?: string }; result: ZooListing };
  loadModel: { params: ModelSource; result: LoadedModel };
  runExperiment: { params: ExperimentRequest; result: ExperimentOutcome };
  cancel: { params: { target: number }; result: { cancelled: boolean } };
}

export type RequestType = keyof RequestMap;
export type Params<K extends RequestType> = RequestMap[K]['params'];
export type Result<K extends RequestType> = RequestMap[K]['result'];

export type Request = { [K in RequestType]: { type: K; runId: number } & Params<K> }[RequestType];
export type RequestOf<K extends RequestType> = Extract<Request, { type: K }>;

/**
 * Why a run failed. `cancelled`: a `cancel` request stopped it. `not-found`/`malformed`: a
 * file (zoo index, checkpoint) is missing or unreadable. `bad-request`: the message itself.
 */
export type ErrorCode = 'cancelled' | 'not-found' | 'malformed' | 'bad-request' | 'internal';

export type ResultEvent = {
  [K in RequestType]: { type: 'result'; runId: number; request: K; value: Result<K> };
}[RequestType];

export type WorkerEvent =
  | { type: 'ready'; report: WorkerReport }
  | { type: 'progress'; runId: number; done: number; total: number; label?: string }
  /** a partial result of a running experiment (e.g. a grid filling cell by cell) */
  | { type: 'partial'; runId: number; value: unknown }
  | ResultEvent
  | { type: 'error'; runId: number | null; code: ErrorCode; message: string };

/** An error that crosses the boundary with its code. */
export class RunError extends Error {
  override name = 'RunError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const requestTypes: readonly RequestType[] = ['init', 'listModels', 'loadModel', 'runExperiment', 'cancel'];

export function isBackendName(v: unknown): v is BackendName {
  return typeof v === 'string' && (backendNames as readonly string[]).includes(v);
}

/** Validates a message received by the worker; throws RunError('bad-request') otherwise. */
export function parseRequest(data: unknown): Request {
  const bad = (why: string): never => {
    throw new RunError('bad-request', `invalid request: ${why}`);
  };
  if (typeof data !== 'object' || data === null) return bad('not an object');
  const m = data as Record<string, unknown>;
  if (!requestTypes.includes(m.type as RequestType)) return bad(`unknown type ${JSON.stringify(m.type)}`);
  if (!Number.isSafeInteger(m.runId)) return bad('runId must be an integer');
  switch (m.type as RequestType) {
    case 'init':
      if (m.backend !== 'auto' && !isBackendName(m.backend)) bad(`unknown backend ${JSON.stringify(m.backend)}`);
      break;
    case 'listModels':
      if (m.indexUrl !== undefined && typeof m.indexUrl !== 'string') bad('indexUrl must be a string');
      break;
    case 'loadModel':
      if (m.bytes !== undefined) {
        if (!(m.bytes instanceof ArrayBuffer)) bad('bytes must be an ArrayBuffer');
        if (m.name !== undefined && typeof m.name !== 'string') bad('name must be a string');
      } else if (typeof m.name !== 'string' || m.name === '') bad('loadModel needs a name or bytes');
      break;
    case 'runExperiment':
      checkExperimentRequest(m, bad);
      break;
    case 'cancel':
      if (!Number.isSafeInteger(m.target)) bad('cancel needs the target runId');
      break;
  }
  return m as unknown as Request;
}

function checkExperimentRequest(m: Record<string, unknown>, bad: (why: string) => never): void {
  if (!isExperimentId(m.experiment)) bad(`unknown experiment ${JSON.stringify(m.experiment)}`);
  const params = m.params;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) bad('params must be an object');
  for (const [k, v] of Object.entries(params as object))
    if (
      !['number', 'string', 'boolean'].includes(typeof v) &&
      !(Array.isArray(v) && v.every((x) => typeof x === 'number'))
    )
      bad(`params.${k} must be a number, string, boolean or list of numbers`);
  if (m.seed !== undefined && !Number.isSafeInteger(m.seed)) bad('seed must be an integer');
  if (m.image !== undefined) {
    const img = m.image as Partial<ImageInput> | null;
    if (typeof img !== 'object' || img === null || !(img.pixels instanceof Uint8Array))
      bad('image.pixels must be a Uint8Array');
    const { height, width, channels, pixels } = img as ImageInput;
    for (const [k, v] of Object.entries({ height, width, channels }))
      if (!Number.isSafeInteger(v) || v <= 0) bad(`image.${k} must be a positive integer`);
    if (pixels.length !== height * width * channels)
      bad(`image has ${pixels.length} values, not ${height}×${width}×${channels}`);
    const label = (img as ImageInput).label;
    if (label !== undefined && !Number.isSafeInteger(label)) bad('image.label must be an integer');
  }
}

/** The message and code of anything thrown, for an `error` event. */
export function toErrorEvent(runId: number | null, e: unknown): Extract<WorkerEvent, { type: 'error' }> {
  if (e instanceof RunError) return { type: 'error', runId, code: e.code, message: e.message };
  if (e instanceof DOMException && e.name === 'AbortError')
    return { type: 'error', runId, code: 'cancelled', message: 'cancelled' };
  const message = e instanceof Error ? e.message : String(e);
  return { type: 'error', runId, code: 'internal', message: message || 'unknown error' };
}
