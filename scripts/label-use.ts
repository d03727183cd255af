// How much a class-conditional model uses its label: log p(x | y) for every class y and the null
// label on uniformly dequantized test images, then (1) how often argmax_y p(x | y) is the true
// label (the model as a Bayes classifier; chance 1/C) and (2) log2 p(x | y_true) − log2 p(x | null)
// and the same for the best y, in bits per image (a model that uses its label well gains up to
// log2 C ≈ 3.3 bits from the true one), then (3) that gain per true class, split into the
// informative and the redundant prior terms.
// Run: npx tsx scripts/label-use.ts <model> [--dataset mnist] [--split test] [--n 100]
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/tf/backend';
import { nodeHost } from '../src/node/backend';
import { loadModel } from '../src/node/files';
import { analyzeForward, disposeAnalysis, makeModel } from '../src/lib/farmer/model';
import { NULL_LABEL } from '../src/lib/farmer/labels';
import { loadDataset } from '../src/node/datasets';
import { dequantizeUniform } from '../src/lib/data/dequantize';
import { Rng } from '../src/lib/util/random';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const name = args[0];
if (!name || name.startsWith('--')) throw new Error('usage: npx tsx scripts/label-use.ts <model> [--dataset mnist] [--split test] [--n 100]');
await selectBackend('wasm', { host: nodeHost, fallback: false });
const loaded = await loadModel(name);
const model = makeModel(loaded.config, loaded.params);
const C = model.config.num_classes;
if (C === 0) throw new Error(`${name} is unconditional (num_classes = 0)`);
const split = flag('split', 'test');
if (split !== 'test' && split !== 'train') throw new Error(`--split must be test or train, got ${split}`);
const test = loadDataset(flag('dataset', 'mnist'), split);
const n = Number(flag('n', '100')), D = model.dims.pixels;
const x = tf.tensor4d(dequantizeUniform(test.images.subarray(0, n * D), new Rng(0)), [n, test.height, test.width, test.channels]);
const bits: Float32Array[] = []; // [C + 1][n]: −log2 p(x | y), the null label last
const parts: [Float32Array, Float32Array][] = []; // [C + 1]: log2 of the informative and redundant prior terms [n]
const toBits = (v: ArrayLike<number>) => Float32Array.from(v, (u) => u / Math.LN2);
for (let y = 0; y <= C; y++) {
  const a = analyzeForward(model, x, new Int32Array(n).fill(y === C ? NULL_LABEL : y));
  bits.push(Float32Array.from((await a.nllPerDim.data()) as Float32Array, (v) => (v * D) / Math.LN2));
  const [inf, red] = tf.tidy(() => [a.logPriorInformative.sum(1), a.logPriorRedundant.sum(1)]);
  parts.push([toBits(await inf.data()), toBits(await red.data())]);
  tf.dispose([inf, red]);
  disposeAnalysis(a);
}
x.dispose();
let hits = 0, trueGain = 0, bestGain = 0;
for (let i = 0; i < n; i++) {
  let best = 0;
  for (let y = 1; y < C; y++) if (bits[y][i] < bits[best][i]) best = y;
  if (best === test.labels[i]) hits++;
  trueGain += bits[C][i] - bits[test.labels[i]][i];
  bestGain += bits[C][i] - bits[best][i];
}
console.log(`${name} on ${n} ${split} images: argmax_y p(x | y) is the true label for ${hits} (${((100 * hits) / n).toFixed(0)} %, chance ${(100 / C).toFixed(0)} %)`);
console.log(`log2 p(x | y_true) − log2 p(x | null): ${(trueGain / n).toFixed(2)} bits per image; best y against null: ${(bestGain / n).toFixed(2)} (log2 C = ${Math.log2(C).toFixed(2)})`);
// Where the true label's gain over the null label comes from, per true class: the informative
// tokens' GMMs or the shared redundant GMM G_R (the AF is unconditional in FARMER, so only these differ).
console.log('per true class, log2 p(x | y_true) − log2 p(x | null) in bits: informative / redundant');
for (let c = 0; c < C; c++) {
  const idx = [...Array(n).keys()].filter((i) => test.labels[i] === c);
  if (!idx.length) continue;
  const mean = (g: number) => idx.reduce((acc, i) => acc + parts[c][g][i] - parts[C][g][i], 0) / idx.length;
  console.log(`  class ${c} (${idx.length} images): ${mean(0).toFixed(1)} / ${mean(1).toFixed(1)}`);
}
