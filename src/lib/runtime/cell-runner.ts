// When a cell runs, and what happens to the answers: a parameter change marks the result stale
// and looks in the cache; a cheap cell re-runs by itself after a pause, an expensive one waits for
// Run; partial results are passed on at most every PARTIAL_INTERVAL_MS (less often when drawing
// them is slow); Cancel and a newer run stop the older one. State changes go through cellReducer.
import { cellReducer, type CellAction, type CellState } from './cell';
import type { ResultCache } from './cache';
import { RunError, type ExperimentOutcome, type ExperimentParams, type ExperimentRequest } from './protocol';
import type { Session } from './session';

/** how long a cheap cell waits after the last change before it re-runs, ms */
export const AUTO_RUN_DELAY_MS = 300;
/** partial results are drawn at most this often, ms */
export const PARTIAL_INTERVAL_MS = 200;

/** A result on show and the parameters it was computed with. */
export interface Shown<R, P extends ExperimentParams = ExperimentParams> {
  value: R;
  params: P;
}

export type RunnerState<R, P extends ExperimentParams> = CellState<Shown<R, P>, R>;

/** What the runner reads from its cell when it acts. */
export interface RunnerCell<R, P extends ExperimentParams> {
  state: RunnerState<R, P>;
  /** the cache key of what a run would compute now; null while not known or not valid */
  readonly key: string | null;
  /** cheap enough to re-run by itself */
  readonly auto: boolean;
  /** main-thread time the last figures took to draw, ms */
  readonly figureMs: number;
  /** the request a run would send now */
  request(): ExperimentRequest | null;
}

export interface RunnerServices {
  cache: ResultCache;
  runExperiment: Session['runExperiment'];
  now(): number;
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class CellRunner<R, P extends ExperimentParams> {
  readonly #cell: RunnerCell<R, P>;
  readonly #s: RunnerServices;
  #abort: AbortController | null = null;
  #debounce: unknown;
  #partialTimer: unknown;
  #pendingPartial: { version: number; value: R } | null = null;
  #destroyed = false;

  constructor(cell: RunnerCell<R, P>, services: RunnerServices) {
    this.#cell = cell;
    this.#s = services;
  }

  dispatch(action: CellAction<Shown<R, P>, R>): void {
    this.#cell.state = cellReducer(this.#cell.state, action);
  }

  /** Another model or experiment: forget the result and stop what is in flight. */
  reset(): void {
    this.#stopInFlight();
    this.dispatch({ type: 'reset' });
  }

  /** The parameters changed (or were first known): mark the result stale, look in the cache, re-run if cheap. */
  onKey(key: string | null): void {
    this.#s.clearTimeout(this.#debounce);
    if (key === null) return;
    this.dispatch({ type: 'params', key });
    const s = this.#cell.state;
    if (s.status === 'done' && s.resultKey === key) return;
    void this.#fromCacheOrAuto(key);
  }

  async #fromCacheOrAuto(key: string): Promise<void> {
    const hit = await this.#s.cache.get<R>(key);
    if (this.#destroyed || key !== this.#cell.key) return;
    if (hit) {
      this.dispatch({
        type: 'cached',
        key,
        result: { value: hit.result, params: hit.params as P },
        elapsedMs: hit.elapsedMs,
      });
      if (this.#cell.state.resultKey === key) return;
    }
    if (this.#cell.auto) this.#debounce = this.#s.setTimeout(() => void this.run(), AUTO_RUN_DELAY_MS);
  }

  /** Runs with the current parameters, replacing a run in flight; the result is stored in the cache. */
  async run(): Promise<void> {
    this.#s.clearTimeout(this.#debounce);
    const request = this.#cell.request(),
      key = this.#cell.key;
    if (!request || key === null) return;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.dispatch({ type: 'queue', at: this.#s.now() });
    const version = this.#cell.state.version;
    try {
      const out: ExperimentOutcome = await this.#s.runExperiment(request, {
        signal: abort.signal,
        onStart: () => this.dispatch({ type: 'start', version, at: this.#s.now() }),
        onProgress: (done, total, label) => this.dispatch({ type: 'progress', version, done, total, label }),
        onPartial: (value) => this.#partial(version, value as R),
      });
      if (this.#destroyed) return;
      this.#dropPartials();
      const result = { value: out.result as R, params: out.params as P };
      this.dispatch({ type: 'done', version, key, result, at: this.#s.now() });
      void this.#s.cache.put(key, {
        result: out.result,
        params: out.params,
        elapsedMs: out.elapsedMs,
        storedAt: Date.now(),
      });
    } catch (err) {
      if (this.#destroyed || (err instanceof RunError && err.code === 'cancelled')) return;
      this.dispatch({ type: 'error', version, message: messageOf(err), at: this.#s.now() });
    } finally {
      if (this.#abort === abort) this.#abort = null;
    }
  }

  /** Stops the run in flight (or drops it from the queue); the previous result stays. */
  cancel(): void {
    this.#stopInFlight();
    this.dispatch({ type: 'cancel' });
  }

  destroy(): void {
    this.#destroyed = true;
    this.#stopInFlight();
  }

  #stopInFlight(): void {
    this.#s.clearTimeout(this.#debounce);
    this.#dropPartials();
    this.#abort?.abort();
    this.#abort = null;
  }

  /** Passes partial results on at most every PARTIAL_INTERVAL_MS, always the newest. */
  #partial(version: number, value: R): void {
    this.#pendingPartial = { version, value };
    if (this.#partialTimer !== undefined) return;
    this.#flushPartial();
    // Slow figures are redrawn less often, so partial results never keep the main thread busy.
    this.#partialTimer = this.#s.setTimeout(
      () => {
        this.#partialTimer = undefined;
        if (this.#pendingPartial) this.#flushPartial();
      },
      Math.max(PARTIAL_INTERVAL_MS, 4 * this.#cell.figureMs),
    );
  }

  #flushPartial(): void {
    const p = this.#pendingPartial!;
    this.#pendingPartial = null;
    this.dispatch({ type: 'partial', version: p.version, value: p.value });
  }

  #dropPartials(): void {
    this.#s.clearTimeout(this.#partialTimer);
    this.#partialTimer = undefined;
    this.#pendingPartial = null;
  }
}
