// A notebook cell's state, changed only by `cellReducer` (pure; times come in with the actions).
// Every run gets a version number; progress, partial results, results and errors of any other
// version are dropped, so a late answer from an older run never overwrites a newer one.

export type CellStatus = 'idle' | 'queued' | 'running' | 'stale' | 'done' | 'error' | 'cancelled';

export interface Progress {
  done: number;
  total: number;
  label?: string;
}

/** `R`: a result as shown (value and parameters); `Q`: a partial result of the run in progress. */
export interface CellState<R = unknown, Q = unknown> {
  status: CellStatus;
  /** the current run's number; starts at 0, +1 for every queued run, cancel and reset */
  version: number;
  /** canonical key of the parameters the page shows now (null before the experiment and model are known) */
  paramsKey: string | null;
  /** key of the parameters `result` was computed with */
  resultKey: string | null;
  /** progress of the current run */
  progress: Progress | null;
  /** when the current run was queued, ms on the caller's clock */
  queuedAt: number | null;
  /** when the current run started computing, ms */
  startedAt: number | null;
  /** how long the last finished run computed, ms */
  elapsedMs: number | null;
  /** why the last run failed */
  error: string | null;
  /** the last result (kept, dimmed, while a newer run is queued, running, failed or cancelled) */
  result: R | null;
  /** the newest partial result of the current run */
  partial: Q | null;
  /** `result` was read from the cache rather than computed */
  cached: boolean;
}

export type CellAction<R = unknown, Q = unknown> =
  /** the page's parameters changed (or were first known) */
  | { type: 'params'; key: string }
  /** a new run is requested; it becomes the current version */
  | { type: 'queue'; at: number }
  /** the current run starts computing */
  | { type: 'start'; version: number; at: number }
  | { type: 'progress'; version: number; done: number; total: number; label?: string }
  | { type: 'partial'; version: number; value: Q }
  /** run `version` finished; `key` names the parameters it used */
  | { type: 'done'; version: number; result: R; key: string; at: number }
  /** a result for `key` read from the cache; ignored while a run is in flight or the parameters moved on */
  | { type: 'cached'; result: R; key: string; elapsedMs: number | null }
  | { type: 'error'; version: number; message: string; at: number }
  /** stops the current run (queued or running) */
  | { type: 'cancel' }
  /** forgets the result (another model was loaded) */
  | { type: 'reset' };

export function initialCellState<R = unknown, Q = unknown>(): CellState<R, Q> {
  return {
    status: 'idle',
    version: 0,
    paramsKey: null,
    resultKey: null,
    progress: null,
    queuedAt: null,
    startedAt: null,
    elapsedMs: null,
    error: null,
    result: null,
    partial: null,
    cached: false,
  };
}

/** A run is queued or running. */
export function inFlight(s: CellState<unknown, unknown>): boolean {
  return s.status === 'queued' || s.status === 'running';
}

/** What a settled cell shows: its result is for the current parameters, or not. */
function settled<R, Q>(s: CellState<R, Q>): CellStatus {
  return s.resultKey !== null && s.resultKey === s.paramsKey ? 'done' : 'stale';
}

export function cellReducer<R, Q>(s: CellState<R, Q>, a: CellAction<R, Q>): CellState<R, Q> {
  switch (a.type) {
    case 'params': {
      if (a.key === s.paramsKey) return s;
      const next = { ...s, paramsKey: a.key };
      return s.status === 'done' || s.status === 'stale' ? { ...next, status: settled(next) } : next;
    }
    case 'queue':
      return {
        ...s,
        status: 'queued',
        version: s.version + 1,
        queuedAt: a.at,
        startedAt: null,
        progress: null,
        partial: null,
        error: null,
      };
    case 'start':
      return a.version === s.version && s.status === 'queued' ? { ...s, status: 'running', startedAt: a.at } : s;
    case 'progress':
      if (a.version !== s.version || s.status !== 'running') return s;
      return { ...s, progress: { done: a.done, total: a.total, ...(a.label === undefined ? {} : { label: a.label }) } };
    case 'partial':
      return a.version === s.version && s.status === 'running' ? { ...s, partial: a.value } : s;
    case 'done': {
      if (a.version !== s.version || !inFlight(s)) return s;
      const next = {
        ...s,
        result: a.result,
        resultKey: a.key,
        cached: false,
        partial: null,
        progress: null,
        error: null,
        elapsedMs: a.at - (s.startedAt ?? a.at),
      };
      return { ...next, status: settled(next) };
    }
    case 'cached': {
      if (inFlight(s) || a.key !== s.paramsKey) return s;
      return {
        ...s,
        status: 'done',
        result: a.result,
        resultKey: a.key,
        cached: true,
        elapsedMs: a.elapsedMs,
        error: null,
        partial: null,
        progress: null,
      };
    }
    case 'error':
      if (a.version !== s.version || !inFlight(s)) return s;
      return {
        ...s,
        status: 'error',
        error: a.message,
        partial: null,
        progress: null,
        elapsedMs: a.at - (s.startedAt ?? a.at),
      };
    case 'cancel':
      if (!inFlight(s)) return s;
      return { ...s, status: 'cancelled', version: s.version + 1, partial: null, progress: null };
    case 'reset':
      return { ...initialCellState<R, Q>(), version: s.version + 1 };
  }
}

/** Time the current run has computed (running) or the last run took, ms; null if none. */
export function elapsedMs(s: CellState<unknown, unknown>, now: number): number | null {
  if (s.status === 'running' && s.startedAt !== null) return Math.max(0, now - s.startedAt);
  return s.status === 'queued' ? null : s.elapsedMs;
}

/** Estimated time left, ms, from the elapsed time and the progress so far; null when unknown. */
export function etaMs(s: CellState<unknown, unknown>, now: number): number | null {
  const p = s.progress;
  const elapsed = elapsedMs(s, now);
  if (s.status !== 'running' || !p || elapsed === null || p.done <= 0 || p.total <= 0 || p.done >= p.total) return null;
  return (elapsed * (p.total - p.done)) / p.done;
}

/** "4.2 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s - 60 * m)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
