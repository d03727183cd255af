// Two likelihood baselines that know nothing of shape: each pixel independent, its 256 values
// counted over the training split (add-½ smoothing), once per position and once shared by all
// positions. Under uniform dequantization a discrete model's BPD is its discrete cross-entropy,
// so these are directly comparable with `farmer eval --bpd`.
// Run: npx tsx scripts/histogram-bpd.ts --dataset mnist|colored-mnist
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/lib/data/node';

const { values: args } = parseArgs({ options: { dataset: { type: 'string', default: 'mnist' } } });
const train = loadDataset(args.dataset!, 'train'), test = loadDataset(args.dataset!, 'test');
const D = train.height * train.width * train.channels;
const perPosition = new Float64Array(D * 256).fill(0.5);
const shared = new Float64Array(256).fill(0.5);
for (let i = 0; i < train.n * D; i++) {
  perPosition[(i % D) * 256 + train.images[i]]++;
  shared[train.images[i]]++;
}
let bitsPosition = 0, bitsShared = 0;
const totalPosition = train.n + 128, totalShared = train.n * D + 128;
for (let i = 0; i < test.n * D; i++) {
  const v = test.images[i];
  bitsPosition -= Math.log2(perPosition[(i % D) * 256 + v] / totalPosition);
  bitsShared -= Math.log2(shared[v] / totalShared);
}
console.log(`${args.dataset} test split, ${test.n} images`);
console.log(`independent pixels, one histogram per position: ${(bitsPosition / (test.n * D)).toFixed(3)} bits/dim`);
console.log(`independent pixels, one histogram for all:      ${(bitsShared / (test.n * D)).toFixed(3)} bits/dim`);
