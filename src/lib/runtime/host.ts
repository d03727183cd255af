// The worker's side of the boundary, free of globals so it runs in unit tests: validates each
// request, runs its handler with an AbortSignal and a progress callback, answers with exactly
// one `result` or `error`, and handles `cancel` itself.
import {
  parseRequest,
  RunError,
  toErrorEvent,
  type Request,
  type RequestOf,
  type RequestType,
  type Result,
  type WorkerEvent,
} from './protocol';

export interface RunContext {
  runId: number;
  /** aborted by a `cancel` request; check it after every await */
  signal: AbortSignal;
  progress(done: number, total: number, label?: string): void;
  /** posts a partial result of this run (structured-cloned) */
  partial(value: unknown): void;
  /** posts an event that is not this run's result (e.g. `ready`) */
  emit(e: WorkerEvent): void;
  /** marks buffers inside the result to be moved rather than copied */
  transfer(...objects: Transferable[]): void;
}

export type HandledType = Exclude<RequestType, 'cancel'>;

export type Handlers = {
  [K in HandledType]: (request: RequestOf<K>, ctx: RunContext) => Promise<Result<K>> | Result<K>;
};

export type Post = (e: WorkerEvent, transfer?: Transferable[]) => void;

/** Throws RunError('cancelled') if the run was cancelled. */
export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new RunError('cancelled', 'cancelled');
}

export function createHost(post: Post, handlers: Handlers) {
  const running = new Map<number, AbortController>();

  async function receive(data: unknown): Promise<void> {
    let request: Request;
    try {
      request = parseRequest(data);
    } catch (e) {
      const id = (data as { runId?: unknown } | null)?.runId;
      post(toErrorEvent(Number.isSafeInteger(id) ? (id as number) : null, e));
      return;
    }
    const { runId } = request;
    if (request.type === 'cancel') {
      const target = running.get(request.target);
      target?.abort();
      post({ type: 'result', runId, request: 'cancel', value: { cancelled: target !== undefined } });
      return;
    }
    const controller = new AbortController();
    running.set(runId, controller);
    const transfer: Transferable[] = [];
    const ctx: RunContext = {
      runId,
      signal: controller.signal,
      progress: (done, total, label) => {
        if (!controller.signal.aborted)
          post({ type: 'progress', runId, done, total, ...(label === undefined ? {} : { label }) });
      },
      partial: (value) => {
        if (!controller.signal.aborted) post({ type: 'partial', runId, value });
      },
      emit: (e) => post(e),
      transfer: (...objects) => transfer.push(...objects),
    };
    try {
      const handler = handlers[request.type] as (r: typeof request, c: RunContext) => Promise<unknown> | unknown;
      const value = await handler(request, ctx);
      throwIfCancelled(controller.signal);
      post({ type: 'result', runId, request: request.type, value } as WorkerEvent, transfer);
    } catch (e) {
      post(toErrorEvent(runId, controller.signal.aborted ? new RunError('cancelled', 'cancelled') : e));
    } finally {
      running.delete(runId);
    }
  }

  return {
    receive,
    get running() {
      return running.size;
    },
  };
}
