// The page's state: backend selection, the zoo listing and the loaded model. Components read
// these fields and call the methods; only this module talks to the worker client.
import type { RunOptions, WorkerClient } from '../lib/runtime/client';
import { backendRows } from '../lib/runtime/backends';
import {
  RunError,
  type BackendPreference,
  type ExperimentOutcome,
  type ExperimentRequest,
  type ModelSource,
} from '../lib/runtime/protocol';
import { RunQueue } from '../lib/runtime/queue';
import type { BackendState, ModelState, Session, ZooState } from '../lib/runtime/session';

export type { BackendState, ModelState, ZooState };

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class Workbench implements Session {
  backend = $state.raw<BackendState>({ status: 'detecting' });
  zoo = $state.raw<ZooState>({ status: 'loading' });
  model = $state.raw<ModelState>({ loaded: null, loading: null, error: null });

  readonly #client: WorkerClient;
  /** experiments run one at a time */
  readonly #experiments = new RunQueue();
  #destroyed = false;
  /** increases with every load; a result from an older load is dropped */
  #loadVersion = 0;

  constructor(
    client: WorkerClient,
    /** what `?backend=` asked for */
    readonly requested: BackendPreference,
    /** a `?backend=` value that is not a backend name */
    readonly invalidBackend?: string,
  ) {
    this.#client = client;
  }

  /** Selects the backend and reads the zoo index, concurrently. */
  async start(): Promise<void> {
    await Promise.all([this.#selectBackend(), this.refreshZoo()]);
  }

  async #selectBackend(): Promise<void> {
    try {
      const report = await this.#client.init(this.requested);
      if (this.#destroyed) return;
      this.backend = { status: 'ready', report, rows: backendRows(report) };
    } catch (e) {
      if (!this.#destroyed) this.backend = { status: 'error', message: messageOf(e) };
    }
  }

  async refreshZoo(): Promise<void> {
    this.zoo = { status: 'loading' };
    try {
      const { url, models } = await this.#client.listModels();
      if (!this.#destroyed) this.zoo = { status: 'ready', url, models };
    } catch (e) {
      if (!this.#destroyed)
        this.zoo = { status: 'error', code: e instanceof RunError ? e.code : 'internal', message: messageOf(e) };
    }
  }

  /** Loads a model file the user picked or dropped. */
  async loadFile(file: File): Promise<void> {
    await this.load({ bytes: await file.arrayBuffer(), name: file.name });
  }

  /** Loads a zoo model or a checkpoint file; a newer load cancels an older one. */
  async load(source: ModelSource): Promise<void> {
    const version = ++this.#loadVersion;
    const previous = this.model.loading;
    if (previous) void this.#client.cancel(previous.runId).catch(() => {});
    const name = source.name ?? 'checkpoint';
    const run = this.#client.start('loadModel', source, 'bytes' in source ? { transfer: [source.bytes] } : {});
    this.model = { ...this.model, loading: { name, runId: run.runId }, error: null };
    try {
      const loaded = await run.result;
      if (this.#destroyed || version !== this.#loadVersion) return;
      this.model = { loaded, loading: null, error: null };
    } catch (e) {
      if (this.#destroyed || version !== this.#loadVersion) return;
      this.model = { ...this.model, loading: null, error: `could not load ${name}: ${messageOf(e)}` };
    }
  }

  /**
   * Runs an experiment on the loaded model after the experiments queued before it; `onStart`
   * is called when its turn comes. Aborting `signal` drops it from the queue or cancels it.
   */
  runExperiment(
    request: ExperimentRequest,
    { onStart, ...options }: RunOptions & { onStart?: () => void } = {},
  ): Promise<ExperimentOutcome> {
    return this.#experiments.enqueue(() => this.#client.runExperiment(request, options).result, {
      signal: options.signal,
      onStart,
    });
  }

  destroy(): void {
    this.#destroyed = true;
    this.#client.close();
  }
}
