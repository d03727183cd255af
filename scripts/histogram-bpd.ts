// Independent-pixel histogram baselines (src/lib/metrics/histogram-baseline.ts), fitted on the
// training split and evaluated on the test split, to read `farmer eval --bpd` against.
// Run: npx tsx scripts/histogram-bpd.ts --dataset mnist|colored-mnist
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/node/datasets';
import { histogramBaseline } from '../src/lib/metrics/histogram-baseline';

const { values: args } = parseArgs({ options: { dataset: { type: 'string', default: 'mnist' } } });
const train = loadDataset(args.dataset!, 'train'), test = loadDataset(args.dataset!, 'test');
const b = histogramBaseline(train.images, train.n, test.images, test.n, train.height * train.width * train.channels);
console.log(`${args.dataset}: fitted on ${b.fitted} training images, evaluated on ${b.evaluated} test images`);
console.log(`independent pixels, one histogram per position: ${b.perPosition.toFixed(3)} bits/dim`);
console.log(`independent pixels, one histogram for all:      ${b.shared.toFixed(3)} bits/dim`);
