// What a notebook needs of the page: the backend, the zoo listing, the loaded model, and a way to
// run an experiment in the worker. src/app/workbench.svelte.ts implements it; notebooks depend on
// this interface only, so they never import the app.
import type { BackendRow } from './backends';
import type { RunOptions } from './client';
import type {
  BackendPreference,
  ErrorCode,
  ExperimentOutcome,
  ExperimentRequest,
  LoadedModel,
  ModelSource,
  ModelSummary,
  WorkerReport,
} from './protocol';

export type BackendState =
  | { status: 'detecting' }
  | { status: 'ready'; report: WorkerReport; rows: BackendRow[] }
  | { status: 'error'; message: string };

export type ZooState =
  | { status: 'loading' }
  | { status: 'ready'; url: string; models: ModelSummary[] }
  | { status: 'error'; code: ErrorCode; message: string };

export interface ModelState {
  /** the model the worker holds; kept while another one loads or fails */
  loaded: LoadedModel | null;
  /** a load in progress */
  loading: { name: string; runId: number } | null;
  /** why the last load failed */
  error: string | null;
}

export interface Session {
  readonly backend: BackendState;
  readonly zoo: ZooState;
  readonly model: ModelState;
  /** what `?backend=` asked for */
  readonly requested: BackendPreference;
  /** Loads a zoo model or a checkpoint file; a newer load cancels an older one. */
  load(source: ModelSource): Promise<void>;
  /** Loads a model file the user picked or dropped. */
  loadFile(file: File): Promise<void>;
  /**
   * Runs an experiment on the loaded model after those queued before it; `onStart` is called
   * when its turn comes. Aborting `signal` drops it from the queue or cancels it.
   */
  runExperiment(
    request: ExperimentRequest,
    options?: RunOptions & { onStart?: () => void },
  ): Promise<ExperimentOutcome>;
}
