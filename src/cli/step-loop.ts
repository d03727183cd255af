// The outer loop that `farmer train` and `farmer distill` share: steps with a progress bar, a log
// line every few steps when stderr is not a terminal, the JSONL log flushed and a checkpoint written
// every few steps, at the last step, when --max-minutes runs out, and after Ctrl-C.
import { appendFile } from 'node:fs/promises';
import { progressBar } from './common';

export interface StepLoop<L extends { step: number; skipped: boolean }> {
  /** progress-bar label */
  name: string;
  /** the last step of the schedule */
  steps: number;
  /** stop (with a checkpoint) after this step, before the schedule ends: an equal-budget cut of a longer schedule */
  stopAt?: number;
  /** steps already done (a resumed run) */
  done: () => number;
  /** one step; returns its log line */
  step: () => Promise<L>;
  /** every line so far; the loop appends */
  history: L[];
  /** the plain-text line printed every `logEvery` steps */
  describe: (line: L) => string;
  logPath: string;
  save: () => Promise<void>;
  checkpointEvery: number;
  logEvery: number;
  maxMinutes?: number;
  json: boolean;
  log: (line: string) => void;
}

export async function runStepLoop<L extends { step: number; skipped: boolean }>(o: StepLoop<L>): Promise<void> {
  const started = performance.now();
  const bar = progressBar(o.name, o.steps);
  let pending: L[] = [];
  let stopRequested = false;
  const onSigint = () => {
    stopRequested = true;
    o.log('\nstopping after this step (checkpoint follows)…');
  };
  process.on('SIGINT', onSigint);
  try {
    const last = Math.min(o.steps, o.stopAt ?? Infinity);
    while (o.done() < last) {
      const line = await o.step();
      o.history.push(line);
      pending.push(line);
      const step = o.done();
      bar.tick(step);
      if (!process.stderr.isTTY && !o.json && step % o.logEvery === 0) o.log(o.describe(line));
      const outOfTime = o.maxMinutes !== undefined && (performance.now() - started) / 60000 >= o.maxMinutes;
      if (step % o.checkpointEvery === 0 || step === last || outOfTime || stopRequested) {
        await appendFile(o.logPath, pending.map((l) => JSON.stringify(l) + '\n').join(''));
        pending = [];
        await o.save();
        if (outOfTime || stopRequested) break;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    bar.end();
  }
}

/** Mean of `value` over the last 50 steps that were not skipped; null when there are none. */
export function meanOfLast50<L extends { skipped: boolean }>(history: L[], value: (line: L) => number): number | null {
  const last = history.slice(-50).filter((l) => !l.skipped);
  return last.length ? last.reduce((s, l) => s + value(l), 0) / last.length : null;
}
