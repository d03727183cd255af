// The options `farmer train` and `farmer distill` share: the optimizer's and schedule's settings
// (each checked against its range) and how often the loop logs and saves.
import type { Flags } from './args';
import type { TrainOptions } from '../lib/train/loop';

export interface RunOptions {
  /** the schedule's length, when given */
  steps: number | undefined;
  /** the TrainOptions given on the command line; the rest come from the defaults or a resumed state */
  given: Partial<TrainOptions>;
  checkpointEvery: number;
  logEvery: number;
  maxMinutes: number | undefined;
}

export function readRunOptions(flags: Flags): RunOptions {
  const given: Partial<TrainOptions> = {};
  const set = <K extends keyof TrainOptions>(key: K, v: TrainOptions[K] | undefined) => {
    if (v !== undefined) given[key] = v;
  };
  const positive = { above: 0 };
  set('batch', flags.int('batch', undefined, { min: 1 }));
  set('lr', flags.num('lr', undefined, positive));
  set('lrMin', flags.num('lr-min', undefined, { min: 0 }));
  set('warmup', flags.int('warmup', undefined, { min: 0 }));
  set('weightDecay', flags.num('weight-decay', undefined, { min: 0 }));
  set('clip', flags.num('clip', undefined, { min: 0 }));
  set('ema', flags.num('ema', undefined, { min: 0, below: 1 }));
  if (flags.str('seed') !== undefined) given.seed = flags.seed();
  return {
    steps: flags.int('steps', undefined, { min: 1 }),
    given,
    checkpointEvery: flags.int('checkpoint-every', 200, { min: 1 }),
    logEvery: flags.int('log-every', 10, { min: 1 }),
    maxMinutes: flags.num('max-minutes', undefined, positive),
  };
}
