// The cell's runner with a fake worker, a fake cache and a hand-driven clock: a cheap cell re-runs
// once after a pause however many changes come, an expensive one waits for Run; a cached result
// is shown without running; partial results are passed on at most every PARTIAL_INTERVAL_MS (and
// less often when drawing is slow), always the newest; Cancel and a newer run stop an older one
// and its late answers are dropped; results go into the cache under the key they were run for.
import { describe, expect, it } from 'vitest';
import { initialCellState } from '../../src/lib/runtime/cell';
import {
  AUTO_RUN_DELAY_MS,
  CellRunner,
  PARTIAL_INTERVAL_MS,
  type RunnerCell,
  type RunnerServices,
  type RunnerState,
} from '../../src/lib/runtime/cell-runner';
import type { CachedRun, ResultCache } from '../../src/lib/runtime/cache';
import { RunError, type ExperimentOutcome, type ExperimentRequest } from '../../src/lib/runtime/protocol';

type P = { n: number };

/** A clock whose timers fire only when `advance` passes them. */
function manualClock() {
  let t = 0,
    next = 1;
  const timers = new Map<number, { at: number; f: () => void }>();
  return {
    now: () => t,
    setTimeout: (f: () => void, ms: number) => (timers.set(next, { at: t + ms, f }), next++),
    clearTimeout: (id: unknown) => void timers.delete(id as number),
    advance(ms: number) {
      const end = t + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        t = due[1].at;
        due[1].f();
      }
      t = end;
    },
  };
}

function memoryCache(): ResultCache & { store: Map<string, CachedRun> } {
  const store = new Map<string, CachedRun>();
  return {
    store,
    available: true,
    get: async <R>(key: string) => store.get(key) as CachedRun<R> | undefined,
    put: async (key, run) => (store.set(key, run as CachedRun), true),
    clear: async () => store.clear(),
  };
}

/** A worker that answers when told; each call is recorded with its options. */
function fakeWorker() {
  const calls: {
    request: ExperimentRequest;
    signal?: AbortSignal;
    partial?: (v: unknown) => void;
    start?: () => void;
    answer: (r: unknown) => void;
    fail: (e: Error) => void;
  }[] = [];
  const runExperiment: RunnerServices['runExperiment'] = (request, o = {}) =>
    new Promise<ExperimentOutcome>((resolve, reject) => {
      const call = {
        request,
        signal: o.signal,
        partial: o.onPartial,
        start: o.onStart,
        answer: (result: unknown) => resolve({ params: { ...request.params }, result, elapsedMs: 5 }),
        fail: reject,
      };
      o.signal?.addEventListener('abort', () => reject(new RunError('cancelled', 'cancelled')));
      calls.push(call);
    });
  return { calls, runExperiment };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function setup({ auto = true, figureMs = 0 } = {}) {
  const clock = manualClock(),
    cache = memoryCache(),
    worker = fakeWorker();
  const cell: RunnerCell<string, P> & { n: number } = {
    state: initialCellState() as RunnerState<string, P>,
    n: 1,
    get key() {
      return `n=${this.n}`;
    },
    auto,
    figureMs,
    request: () => ({ experiment: 'logdet', params: { n: cell.n } }),
  };
  const runner = new CellRunner<string, P>(cell, { cache, runExperiment: worker.runExperiment, ...clock });
  return { clock, cache, worker, cell, runner };
}

describe('CellRunner', () => {
  it('a cheap cell re-runs once, AUTO_RUN_DELAY_MS after the last of several changes', async () => {
    const { clock, worker, cell, runner } = setup();
    for (const n of [2, 3, 4]) {
      cell.n = n;
      runner.onKey(cell.key);
      await flush(); // the cache lookup
      clock.advance(AUTO_RUN_DELAY_MS - 1);
    }
    expect(worker.calls).toHaveLength(0);
    clock.advance(1);
    expect(worker.calls.map((c) => c.request.params)).toEqual([{ n: 4 }]);
    expect(cell.state.status).toBe('queued');
    worker.calls[0].start!();
    worker.calls[0].answer('r4');
    await flush();
    expect(cell.state).toMatchObject({ status: 'done', resultKey: 'n=4', result: { value: 'r4', params: { n: 4 } } });
  });

  it('an expensive cell only marks its result stale and waits for Run; the result goes into the cache under its key', async () => {
    const { clock, worker, cell, runner, cache } = setup({ auto: false });
    runner.onKey(cell.key);
    await flush();
    clock.advance(10 * AUTO_RUN_DELAY_MS);
    expect(worker.calls).toHaveLength(0);
    void runner.run();
    worker.calls[0].answer('r1');
    await flush();
    expect(cache.store.get('n=1')).toMatchObject({ result: 'r1', params: { n: 1 }, elapsedMs: 5 });
    cell.n = 2;
    runner.onKey(cell.key);
    expect(cell.state.status).toBe('stale');
  });

  it('shows a cached result without running, also for a cheap cell', async () => {
    const { clock, worker, cell, runner, cache } = setup();
    cache.store.set('n=1', { result: 'from cache', params: { n: 1 }, elapsedMs: 9, storedAt: 0 });
    runner.onKey(cell.key);
    await flush();
    clock.advance(AUTO_RUN_DELAY_MS * 2);
    expect(worker.calls).toHaveLength(0);
    expect(cell.state).toMatchObject({ status: 'done', cached: true, elapsedMs: 9, result: { value: 'from cache' } });
  });

  it('passes the first partial result on at once, then the newest at most every PARTIAL_INTERVAL_MS (4× the drawing time when slower)', async () => {
    for (const figureMs of [0, 100]) {
      const { clock, worker, cell, runner } = setup({ auto: false, figureMs });
      void runner.run();
      worker.calls[0].start!();
      const seen: unknown[] = [];
      const record = () => seen.push(cell.state.partial);
      worker.calls[0].partial!('p1');
      record();
      worker.calls[0].partial!('p2');
      worker.calls[0].partial!('p3');
      record();
      const interval = Math.max(PARTIAL_INTERVAL_MS, 4 * figureMs);
      clock.advance(interval - 1);
      record();
      clock.advance(1);
      record();
      expect(seen).toEqual(['p1', 'p1', 'p1', 'p3']);
    }
  });

  it('Cancel stops the run, keeps the earlier result, and drops its late answer', async () => {
    const { worker, cell, runner } = setup({ auto: false });
    void runner.run();
    worker.calls[0].answer('first');
    await flush();
    void runner.run();
    worker.calls[1].start!();
    runner.cancel();
    expect(worker.calls[1].signal!.aborted).toBe(true);
    await flush();
    expect(cell.state).toMatchObject({ status: 'cancelled', result: { value: 'first' } });
    worker.calls[1].answer('late');
    await flush();
    expect(cell.state.result!.value).toBe('first');
  });

  it('a newer run aborts the older one; an error is shown with its message', async () => {
    const { worker, cell, runner } = setup({ auto: false });
    void runner.run();
    void runner.run();
    expect(worker.calls[0].signal!.aborted).toBe(true);
    worker.calls[1].fail(new RunError('bad-request', 'invalid n: 0'));
    await flush();
    expect(cell.state).toMatchObject({ status: 'error', error: 'invalid n: 0' });
  });
});
