// How much a class-conditional model uses its label: log p(x | y) for every class y and the null
// label on uniformly dequantized test images, then (1) how often argmax_y p(x | y) is the true
// label (the model as a Bayes classifier; chance 1/C), (2) log2 p(x | y_true) − log2 p(x | null)
// and the same for the best y, in bits per image (a model that uses its label fully gains up to
// log2 C), and (3) that gain per true class, split into the informative and redundant prior terms.
import * as tf from '@tensorflow/tfjs';
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { openModel, setupBackend } from '../common';
import type { Subcommand } from '../subcommands';
import { analyzeForward, disposeAnalysis, type FarmerModel } from '../../lib/farmer/model';
import { NULL_LABEL } from '../../lib/farmer/labels';
import { dequantizeUniform } from '../../lib/data/dequantize';
import { loadDataset } from '../../node/datasets';
import { Rng } from '../../lib/util/random';

export interface ClassGain {
  class: number;
  images: number;
  /** mean over the class's images of log2 p(x | y_true) − log2 p(x | null), informative prior terms */
  informative_bits: number;
  /** the same for the redundant terms (G_R) */
  redundant_bits: number;
}

export interface LabelUse {
  n: number;
  classes: number;
  /** images whose argmax_y p(x | y) is their label */
  hits: number;
  accuracy: number;
  chance: number;
  /** mean log2 p(x | y_true) − log2 p(x | null), bits per image */
  true_gain_bits: number;
  /** mean max_y log2 p(x | y) − log2 p(x | null) */
  best_gain_bits: number;
  log2_classes: number;
  per_class: ClassGain[];
}

/** Per label y = 0 … C−1 and the null label (last): log2 p(x | y) and its informative and redundant prior terms, [C + 1][n] each. */
async function bitsPerLabel(model: FarmerModel, x: Float32Array, n: number, batch: number) {
  const C = model.config.num_classes;
  const { height: H, width: W, channels: Ch } = model.config.image;
  const size = H * W * Ch;
  const lp = Array.from({ length: C + 1 }, () => new Float64Array(n));
  const info = Array.from({ length: C + 1 }, () => new Float64Array(n));
  const red = Array.from({ length: C + 1 }, () => new Float64Array(n));
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const xb = tf.tensor4d(x.subarray(start * size, (start + count) * size), [count, H, W, Ch]);
    for (let y = 0; y <= C; y++) {
      const a = analyzeForward(model, xb, new Int32Array(count).fill(y === C ? NULL_LABEL : y));
      const [inf, rd] = tf.tidy(() => [a.logPriorInformative.sum(1), a.logPriorRedundant.sum(1)]);
      const [px, i, r] = await Promise.all([a.logPx.data(), inf.data(), rd.data()]);
      for (let b = 0; b < count; b++) {
        lp[y][start + b] = px[b] / Math.LN2;
        info[y][start + b] = i[b] / Math.LN2;
        red[y][start + b] = r[b] / Math.LN2;
      }
      tf.dispose([inf, rd]);
      disposeAnalysis(a);
    }
    xb.dispose();
  }
  return { lp, info, red };
}

/** The label-use figures of `model` on the first n images (uint8) with their labels, dequantized with Rng(seed). */
export async function labelUse(
  model: FarmerModel,
  images: Uint8Array,
  labels: ArrayLike<number>,
  n: number,
  seed: number,
  batch = 64,
): Promise<LabelUse> {
  const C = model.config.num_classes;
  if (C === 0) throw new Error('label use needs a class-conditional model (num_classes = 0)');
  const x = dequantizeUniform(images.subarray(0, n * model.dims.pixels), new Rng(seed));
  const { lp, info, red } = await bitsPerLabel(model, x, n, batch);
  let hits = 0,
    trueGain = 0,
    bestGain = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let y = 1; y < C; y++) if (lp[y][i] > lp[best][i]) best = y;
    if (best === labels[i]) hits++;
    trueGain += lp[labels[i]][i] - lp[C][i];
    bestGain += lp[best][i] - lp[C][i];
  }
  const per_class: ClassGain[] = [];
  for (let c = 0; c < C; c++) {
    const idx = Array.from({ length: n }, (_, i) => i).filter((i) => labels[i] === c);
    if (!idx.length) continue;
    const mean = (t: Float64Array[]) => idx.reduce((s, i) => s + t[c][i] - t[C][i], 0) / idx.length;
    per_class.push({ class: c, images: idx.length, informative_bits: mean(info), redundant_bits: mean(red) });
  }
  return {
    n,
    classes: C,
    hits,
    accuracy: hits / n,
    chance: 1 / C,
    true_gain_bits: trueGain / n,
    best_gain_bits: bestGain / n,
    log2_classes: Math.log2(C),
    per_class,
  };
}

export const labelUseCommand: Subcommand = {
  usage: `label-use <model> [--dataset mnist] [--split test] [--n 100] [--seed S] [--batch 64]
    how much a class-conditional model uses its label: argmax_y p(x | y) as a classifier, and the bits
    log2 p(x | y) gains over the null label, per true class split into informative and redundant terms`,
  async run({ flags, json, out }: CommandContext, args: string[]) {
    const [arg, extra] = args;
    const dataset = flags.dataset('mnist');
    const split = flags.choice('split', ['test', 'train'] as const, 'test');
    const n = flags.int('n', 100, { min: 1 }),
      seed = flags.seed(),
      batch = flags.int('batch', 64, { min: 1 });
    const report = await setupBackend(flags);
    flags.finish();
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const { model, source } = await openModel(arg);
    const data = loadDataset(dataset, split);
    if (n > data.n) throw new UsageError(`--n ${n} is more than the ${data.n} images of ${dataset}/${split}`);
    const r = await labelUse(model, data.images, data.labels, n, seed, batch);
    if (json) {
      out(JSON.stringify({ model: source, dataset, split, seed, backend: report.active, ...r }));
      return;
    }
    out(
      `${source} on ${n} ${split} images: argmax_y p(x | y) is the true label for ${r.hits} (${(100 * r.accuracy).toFixed(0)} %, chance ${(100 * r.chance).toFixed(0)} %)`,
    );
    out(
      `log2 p(x | y_true) − log2 p(x | null): ${r.true_gain_bits.toFixed(2)} bits per image; best y against null: ${r.best_gain_bits.toFixed(2)} (log2 C = ${r.log2_classes.toFixed(2)})`,
    );
    out('per true class, log2 p(x | y_true) − log2 p(x | null) in bits: informative / redundant');
    for (const c of r.per_class)
      out(`  class ${c.class} (${c.images} images): ${c.informative_bits.toFixed(1)} / ${c.redundant_bits.toFixed(1)}`);
  },
};
