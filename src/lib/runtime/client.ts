// The main thread's side of the worker boundary: numbered runs, promise results, event
// subscription. It never imports TensorFlow.js.
import {
  RunError,
  type BackendPreference,
  type ExperimentRequest,
  type ModelSource,
  type Params,
  type Request,
  type RequestType,
  type Result,
  type WorkerEvent,
} from './protocol';

/** What the client needs of a Worker (a fake one in unit tests). */
export interface WorkerPort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (e: Event) => void): void;
  terminate?(): void;
}

export interface RunOptions {
  /** objects moved, not copied, to the worker */
  transfer?: Transferable[];
  onProgress?: (done: number, total: number, label?: string) => void;
  /** partial results of this run, as they arrive */
  onPartial?: (value: unknown) => void;
  /** aborting sends `cancel` for this run */
  signal?: AbortSignal;
}

/** One started request. */
export interface Run<K extends RequestType> {
  runId: number;
  result: Promise<Result<K>>;
  cancel(): void;
}

type EventOf<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>;

interface Pending {
  resolve: (value: never) => void;
  reject: (e: RunError) => void;
  onProgress?: RunOptions['onProgress'];
  onPartial?: RunOptions['onPartial'];
}

export class WorkerClient {
  #port: WorkerPort;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Set<(e: WorkerEvent) => void>();
  #closed = false;

  constructor(port: WorkerPort) {
    this.#port = port;
    port.addEventListener('message', (e) => this.#receive((e as MessageEvent<WorkerEvent>).data));
    port.addEventListener('messageerror', () =>
      this.#receive({ type: 'error', runId: null, code: 'internal', message: 'a worker message could not be decoded' }),
    );
    port.addEventListener('error', (e) => {
      const message = `the worker failed: ${(e as ErrorEvent).message || 'it could not start or crashed'}`;
      this.#failAll(new RunError('internal', message));
      this.#emit({ type: 'error', runId: null, code: 'internal', message });
    });
  }

  /** Starts a request; its result arrives on `run.result`. */
  start<K extends RequestType>(
    type: K,
    params: Params<K>,
    { transfer = [], onProgress, onPartial, signal }: RunOptions = {},
  ): Run<K> {
    const runId = this.#nextId++;
    const result = new Promise<Result<K>>((resolve, reject) => {
      if (this.#closed) return reject(new RunError('internal', 'the worker is closed'));
      if (signal?.aborted) return reject(new RunError('cancelled', 'cancelled'));
      this.#pending.set(runId, { resolve: resolve as (v: never) => void, reject, onProgress, onPartial });
      this.#port.postMessage({ ...params, type, runId } as Request, transfer);
    });
    const cancel = () => {
      if (this.#pending.has(runId)) void this.cancel(runId);
    };
    signal?.addEventListener('abort', cancel, { once: true });
    void result.then(
      () => signal?.removeEventListener('abort', cancel),
      () => signal?.removeEventListener('abort', cancel),
    );
    return { runId, result, cancel };
  }

  request<K extends RequestType>(type: K, params: Params<K>, options?: RunOptions): Promise<Result<K>> {
    return this.start(type, params, options).result;
  }

  /** Asks the worker to stop run `target`; its promise then rejects with code `cancelled`. */
  async cancel(target: number): Promise<boolean> {
    return (await this.request('cancel', { target })).cancelled;
  }

  /** Selects the backend; the worker also emits `ready` with the same report. */
  init(backend: BackendPreference = 'auto') {
    return this.request('init', { backend });
  }

  listModels(indexUrl?: string) {
    return this.request('listModels', indexUrl === undefined ? {} : { indexUrl });
  }

  /** Loads a zoo model by name, or a checkpoint's bytes (moved to the worker). */
  loadModel(source: ModelSource, options: RunOptions = {}) {
    const transfer = 'bytes' in source ? [source.bytes, ...(options.transfer ?? [])] : options.transfer;
    return this.request('loadModel', source, { ...options, transfer });
  }

  /**
   * Runs an experiment on the loaded model. An image's pixels are moved to the worker (copied
   * first when they are a view into a larger buffer, so that buffer stays usable here).
   */
  runExperiment(request: ExperimentRequest, options: RunOptions = {}): Run<'runExperiment'> {
    if (!request.image) return this.start('runExperiment', request, options);
    const p = request.image.pixels;
    const pixels = p.byteOffset === 0 && p.byteLength === p.buffer.byteLength ? p : p.slice();
    const transfer = [pixels.buffer as ArrayBuffer, ...(options.transfer ?? [])];
    return this.start('runExperiment', { ...request, image: { ...request.image, pixels } }, { ...options, transfer });
  }

  /** Subscribes to every event, or to one type; returns the unsubscribe function. */
  on(listener: (e: WorkerEvent) => void): () => void;
  on<T extends WorkerEvent['type']>(type: T, listener: (e: EventOf<T>) => void): () => void;
  on(a: WorkerEvent['type'] | ((e: WorkerEvent) => void), b?: (e: never) => void): () => void {
    const listener =
      typeof a === 'function' ? a : (e: WorkerEvent) => e.type === a && (b as (e: WorkerEvent) => void)(e);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Number of runs still waiting for their result. */
  get pending(): number {
    return this.#pending.size;
  }

  close(): void {
    this.#closed = true;
    this.#failAll(new RunError('internal', 'the worker is closed'));
    this.#port.terminate?.();
  }

  #receive(e: WorkerEvent): void {
    if (e.type === 'progress') this.#pending.get(e.runId)?.onProgress?.(e.done, e.total, e.label);
    else if (e.type === 'partial') this.#pending.get(e.runId)?.onPartial?.(e.value);
    else if (e.type === 'result' || (e.type === 'error' && e.runId !== null)) {
      const p = this.#pending.get(e.runId!);
      if (p) {
        this.#pending.delete(e.runId!);
        if (e.type === 'result') p.resolve(e.value as never);
        else p.reject(new RunError(e.code, e.message));
      }
    }
    this.#emit(e);
  }

  #emit(e: WorkerEvent): void {
    for (const l of this.#listeners) l(e);
  }

  #failAll(error: RunError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }
}
