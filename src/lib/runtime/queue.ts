// Runs tasks one at a time, in order: experiments share one worker, and a cell waiting its
// turn is `queued`, not `running`. A task whose signal aborts while it waits is dropped.
import { RunError } from './protocol';

interface Entry {
  go: () => Promise<void>;
}

export class RunQueue {
  #waiting: Entry[] = [];
  #busy = false;

  /** Tasks waiting for their turn (not counting the one running). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `task` after every task enqueued before it; `onStart` is called when its turn comes. */
  enqueue<T>(
    task: () => Promise<T>,
    { signal, onStart }: { signal?: AbortSignal; onStart?: () => void } = {},
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cancelled = () => reject(new RunError('cancelled', 'cancelled'));
      if (signal?.aborted) return cancelled();
      const entry: Entry = {
        go: async () => {
          signal?.removeEventListener('abort', drop);
          if (signal?.aborted) return cancelled();
          onStart?.();
          try {
            resolve(await task());
          } catch (e) {
            reject(e);
          }
        },
      };
      const drop = () => {
        const i = this.#waiting.indexOf(entry);
        if (i >= 0) {
          this.#waiting.splice(i, 1);
          cancelled();
        }
      };
      signal?.addEventListener('abort', drop, { once: true });
      this.#waiting.push(entry);
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let e = this.#waiting.shift(); e; e = this.#waiting.shift()) await e.go();
    } finally {
      this.#busy = false;
    }
  }
}
