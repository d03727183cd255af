// The cell reducer on its own: the life of a run, the stale-run guard, cancel, errors, parameter
// changes marking a result stale, re-runs, the cache, and the elapsed-time/ETA selectors.
import { describe, expect, it } from 'vitest';
import {
  cellReducer,
  elapsedMs,
  etaMs,
  formatDuration,
  initialCellState,
  type CellAction,
  type CellState,
} from '../../src/lib/runtime/cell';

const reduce = (actions: CellAction<string>[], from: CellState<string> = initialCellState<string>()) =>
  actions.reduce(cellReducer, from);

/** A cell showing parameters "p1" with a finished run: version 1, result "r1". */
const doneCell = () =>
  reduce([
    { type: 'params', key: 'p1' },
    { type: 'queue', at: 0 },
    { type: 'start', version: 1, at: 10 },
    { type: 'done', version: 1, result: 'r1', key: 'p1', at: 110 },
  ]);

describe('cellReducer', () => {
  it('takes a run through queued, running (with progress and partials) and done', () => {
    let s = reduce([{ type: 'params', key: 'p1' }]);
    expect(s.status).toBe('idle');
    s = cellReducer(s, { type: 'queue', at: 0 });
    expect(s).toMatchObject({ status: 'queued', version: 1, queuedAt: 0 });
    s = cellReducer(s, { type: 'start', version: 1, at: 10 });
    expect(s).toMatchObject({ status: 'running', startedAt: 10 });
    s = cellReducer(s, { type: 'progress', version: 1, done: 2, total: 8, label: 'block 1' });
    s = cellReducer(s, { type: 'partial', version: 1, value: 'half' });
    expect(s).toMatchObject({ progress: { done: 2, total: 8, label: 'block 1' }, partial: 'half' });
    s = cellReducer(s, { type: 'done', version: 1, result: 'r1', key: 'p1', at: 110 });
    expect(s).toMatchObject({
      status: 'done',
      result: 'r1',
      resultKey: 'p1',
      elapsedMs: 100,
      progress: null,
      partial: null,
      cached: false,
    });
  });

  it('ignores progress, partials, results and errors of an older run', () => {
    let s = reduce([
      { type: 'params', key: 'p1' },
      { type: 'queue', at: 0 },
      { type: 'start', version: 1, at: 0 },
    ]);
    s = cellReducer(s, { type: 'queue', at: 5 }); // re-run before the first answered
    s = cellReducer(s, { type: 'start', version: 2, at: 6 });
    const before = s;
    for (const late of [
      { type: 'progress', version: 1, done: 1, total: 2 },
      { type: 'partial', version: 1, value: 'old partial' },
      { type: 'done', version: 1, result: 'old', key: 'p1', at: 50 },
      { type: 'error', version: 1, message: 'old failure', at: 50 },
      { type: 'start', version: 1, at: 50 },
    ] as CellAction<string>[])
      expect(cellReducer(s, late)).toBe(before);
    s = cellReducer(s, { type: 'done', version: 2, result: 'new', key: 'p1', at: 60 });
    expect(s).toMatchObject({ status: 'done', result: 'new', version: 2 });
    // An answer to a run that is already settled is dropped too.
    expect(cellReducer(s, { type: 'done', version: 2, result: 'again', key: 'p1', at: 70 })).toBe(s);
  });

  it("cancel stops a queued or running run, keeps the previous result and drops the cancelled run's late answer", () => {
    let s = cellReducer(doneCell(), { type: 'queue', at: 200 });
    s = cellReducer(s, { type: 'start', version: 2, at: 210 });
    s = cellReducer(s, { type: 'progress', version: 2, done: 1, total: 4 });
    s = cellReducer(s, { type: 'cancel' });
    expect(s).toMatchObject({ status: 'cancelled', version: 3, result: 'r1', progress: null });
    expect(cellReducer(s, { type: 'done', version: 2, result: 'late', key: 'p1', at: 300 })).toBe(s);
    expect(cellReducer(s, { type: 'error', version: 2, message: 'cancelled', at: 300 })).toBe(s);
    // Cancel with nothing in flight changes nothing.
    expect(cellReducer(doneCell(), { type: 'cancel' })).toEqual(doneCell());
    // A queued run can be cancelled before it starts.
    expect(cellReducer(cellReducer(doneCell(), { type: 'queue', at: 1 }), { type: 'cancel' }).status).toBe('cancelled');
  });

  it('an error keeps its message and the previous result; the next run clears the message', () => {
    let s = cellReducer(doneCell(), { type: 'queue', at: 200 });
    s = cellReducer(s, { type: 'start', version: 2, at: 200 });
    s = cellReducer(s, { type: 'error', version: 2, message: 'invalid image: 12000', at: 250 });
    expect(s).toMatchObject({ status: 'error', error: 'invalid image: 12000', result: 'r1', elapsedMs: 50 });
    s = cellReducer(s, { type: 'queue', at: 300 });
    expect(s).toMatchObject({ status: 'queued', error: null, version: 3 });
  });

  it('a parameter change marks a done cell stale, and changing back makes it done again', () => {
    let s = cellReducer(doneCell(), { type: 'params', key: 'p2' });
    expect(s).toMatchObject({ status: 'stale', result: 'r1', resultKey: 'p1', paramsKey: 'p2' });
    expect(cellReducer(s, { type: 'params', key: 'p1' }).status).toBe('done');
    // Other states keep their status; only the key moves.
    const idle = reduce([
      { type: 'params', key: 'a' },
      { type: 'params', key: 'b' },
    ]);
    expect(idle).toMatchObject({ status: 'idle', paramsKey: 'b' });
    const errored = reduce([
      { type: 'params', key: 'a' },
      { type: 'queue', at: 0 },
      { type: 'start', version: 1, at: 0 },
      { type: 'error', version: 1, message: 'x', at: 1 },
      { type: 'params', key: 'b' },
    ]);
    expect(errored.status).toBe('error');
  });

  it('re-runs from stale; a result for parameters that changed while it ran arrives stale', () => {
    let s = cellReducer(doneCell(), { type: 'params', key: 'p2' });
    s = reduce(
      [
        { type: 'queue', at: 300 },
        { type: 'start', version: 2, at: 300 },
        { type: 'done', version: 2, result: 'r2', key: 'p2', at: 400 },
      ],
      s,
    );
    expect(s).toMatchObject({ status: 'done', result: 'r2', resultKey: 'p2' });
    s = reduce(
      [
        { type: 'queue', at: 500 },
        { type: 'start', version: 3, at: 500 },
        { type: 'params', key: 'p3' },
        { type: 'done', version: 3, result: 'r3', key: 'p2', at: 600 },
      ],
      s,
    );
    expect(s).toMatchObject({ status: 'stale', result: 'r3', resultKey: 'p2', paramsKey: 'p3' });
  });

  it('shows a cached result for the current parameters only, and never over a run in flight', () => {
    const idle = reduce([{ type: 'params', key: 'p1' }]);
    expect(cellReducer(idle, { type: 'cached', result: 'c', key: 'p1', elapsedMs: 42 })).toMatchObject({
      status: 'done',
      result: 'c',
      cached: true,
      elapsedMs: 42,
    });
    expect(cellReducer(idle, { type: 'cached', result: 'c', key: 'p0', elapsedMs: 42 })).toBe(idle);
    const queued = cellReducer(idle, { type: 'queue', at: 0 });
    expect(cellReducer(queued, { type: 'cached', result: 'c', key: 'p1', elapsedMs: 1 })).toBe(queued);
    const stale = cellReducer(doneCell(), { type: 'params', key: 'p2' });
    expect(cellReducer(stale, { type: 'cached', result: 'c2', key: 'p2', elapsedMs: 1 })).toMatchObject({
      status: 'done',
      result: 'c2',
      cached: true,
    });
  });

  it('reset forgets the result and drops whatever the old run still sends', () => {
    const running = reduce([
      { type: 'params', key: 'p1' },
      { type: 'queue', at: 0 },
      { type: 'start', version: 1, at: 0 },
    ]);
    const s = cellReducer(running, { type: 'reset' });
    expect(s).toEqual({ ...initialCellState(), version: 2 });
    expect(cellReducer(s, { type: 'done', version: 1, result: 'late', key: 'p1', at: 9 })).toBe(s);
  });
});

describe('elapsed time and ETA', () => {
  it('counts from the start while running and extrapolates the progress', () => {
    let s = reduce([
      { type: 'params', key: 'p' },
      { type: 'queue', at: 0 },
    ]);
    expect([elapsedMs(s, 50), etaMs(s, 50)]).toEqual([null, null]);
    s = reduce([{ type: 'start', version: 1, at: 100 }], s);
    expect([elapsedMs(s, 400), etaMs(s, 400)]).toEqual([300, null]); // no progress yet
    s = cellReducer(s, { type: 'progress', version: 1, done: 1, total: 4 });
    expect([elapsedMs(s, 400), etaMs(s, 400)]).toEqual([300, 900]);
    s = cellReducer(s, { type: 'done', version: 1, result: 'r', key: 'p', at: 1300 });
    expect([elapsedMs(s, 5000), etaMs(s, 5000)]).toEqual([1200, null]);
  });

  it('formats durations for people', () => {
    expect(formatDuration(4210)).toBe('4.2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
  });
});
