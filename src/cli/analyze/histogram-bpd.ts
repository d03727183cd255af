// Independent-pixel histogram baselines (metrics/histogram-baseline.ts), fitted on the training
// split and evaluated on the test split, to read `farmer eval --bpd` against.
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import type { Subcommand } from '../subcommands';
import { histogramBaseline } from '../../lib/metrics/histogram-baseline';
import { loadDataset } from '../../node/datasets';

export const histogramBpdCommand: Subcommand = {
  usage: `histogram-bpd [--dataset mnist|colored-mnist] [--n-fit N] [--n-eval N]
    bits per dimension of every pixel independent, one histogram per position or one for all
    (add-½ smoothing), fitted on the first N training images (all by default), on the first N test images`,
  async run({ flags, json, out }: CommandContext, args: string[]) {
    const dataset = flags.dataset('mnist');
    const nFit = flags.int('n-fit', undefined, { min: 1 }),
      nEval = flags.int('n-eval', undefined, { min: 1 });
    flags.str('backend'); // accepted by every command; this one computes in JavaScript
    flags.finish();
    if (args.length) throw new UsageError(`unexpected argument "${args[0]}"`);
    const train = loadDataset(dataset, 'train'),
      test = loadDataset(dataset, 'test');
    for (const [name, v, max] of [
      ['n-fit', nFit, train.n],
      ['n-eval', nEval, test.n],
    ] as const)
      if (v !== undefined && v > max)
        throw new UsageError(`--${name} ${v} is more than the ${max} images of the split`);
    const b = histogramBaseline(
      train.images,
      nFit ?? train.n,
      test.images,
      nEval ?? test.n,
      train.height * train.width * train.channels,
    );
    if (json) {
      out(
        JSON.stringify({
          dataset,
          per_position_bpd: b.perPosition,
          shared_bpd: b.shared,
          fitted: b.fitted,
          evaluated: b.evaluated,
        }),
      );
      return;
    }
    out(`${dataset}: fitted on ${b.fitted} training images, evaluated on ${b.evaluated} test images`);
    out(`independent pixels, one histogram per position: ${b.perPosition.toFixed(3)} bits/dim`);
    out(`independent pixels, one histogram for all:      ${b.shared.toFixed(3)} bits/dim`);
  },
};
