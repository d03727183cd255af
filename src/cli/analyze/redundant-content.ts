// What a FARMER model's redundant channels hold, measured on gray test images:
// 1. swap: decode each image's latent with the redundant channels of the next image; the mean
//    absolute pixel difference to its own image, against the difference between the two images.
//    Near 0: the redundant channels carry little; near the second number: they carry the image.
// 2. components: for each token, the G_R component that explains its redundant vector best (G_R
//    from the AR prior given the image's own informative tokens), against whether the patch is
//    background (all pixels 0). Sampling draws components i.i.d. over positions, so a component
//    that means "stroke" lands anywhere.
import * as tf from '@tensorflow/tfjs';
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { openModel, setupBackend } from '../common';
import type { Subcommand } from '../subcommands';
import { analyzeForward, decodeLatents, disposeAnalysis, type FarmerModel } from '../../lib/farmer/model';
import { ArDecoder, arToken, farmerPrior } from '../../lib/farmer/prior';
import { gmmFromRow, gmmLogDensityCpu, type Gmm } from '../../lib/farmer/gmm';
import { nullLabels } from '../../lib/farmer/labels';
import { dequantizeUniform } from '../../lib/data/dequantize';
import { loadDataset } from '../../node/datasets';
import { Rng } from '../../lib/util/random';

export interface RedundantContent {
  n: number;
  /** mean |x − decode(Z with the next image's redundant channels)|, pixel levels (0–255) */
  swap_levels: number;
  /** mean |x − next image|, pixel levels */
  next_image_levels: number;
  /** per G_R component: tokens it explains best, and how many of those are background patches */
  components: { tokens: number; background: number }[];
  /** share of background patches among all n·N tokens */
  background_share: number;
  /** I(best component; background or stroke), bits */
  mutual_information_bits: number;
  /** H(background or stroke), bits: the most the component could tell */
  entropy_bits: number;
}

/** The mixture component with the highest posterior for z: argmax_k log π_k + log N(z; μ_k, σ_k). */
function bestComponent(g: Gmm, z: ArrayLike<number>): number {
  let best = 0,
    bestLog = -Infinity;
  for (let k = 0; k < g.K; k++) {
    const one: Gmm = {
      K: 1,
      d: g.d,
      logits: Float32Array.of(0),
      means: g.means.subarray(k * g.d, (k + 1) * g.d),
      sigmas: g.sigmas.subarray(k * g.d, (k + 1) * g.d),
    };
    const v = g.logits[k] + gmmLogDensityCpu(one, z);
    if (v > bestLog) [bestLog, best] = [v, k];
  }
  return best;
}

/** G_R of each image given its own informative tokens: the head output after the last token, [n, K_R(1 + 2d_R)]. */
async function redundantHeads(model: FarmerModel, z: Float32Array, n: number): Promise<Float32Array> {
  const { tokens: N, tokenDim: d, informative: dI } = model.dims;
  const decoder = new ArDecoder(model.params, model.config, n);
  let head = decoder.start(nullLabels(n));
  try {
    for (let i = 0; i < N; i++) {
      const t = arToken(model.config, i);
      const token = new Float32Array(n * dI);
      for (let b = 0; b < n; b++) token.set(z.subarray((b * N + t) * d, (b * N + t) * d + dI), b * dI);
      const tt = tf.tensor2d(token, [n, dI]);
      head.dispose();
      head = decoder.feed(tt);
      tt.dispose();
    }
    return (await head.data()) as Float32Array;
  } finally {
    head.dispose();
    decoder.dispose();
  }
}

/** Both measurements on the first n gray images (uint8 [n, H, W, 1]), dequantized with Rng(seed). */
export async function redundantContent(
  model: FarmerModel,
  pixels: Uint8Array,
  n: number,
  seed: number,
): Promise<RedundantContent> {
  const c = model.config;
  const K = farmerPrior(c).mixtures_redundant;
  if (c.image.channels !== 1) throw new Error('redundant-content measures gray images (1 channel)');
  const { height: H, width: W } = c.image;
  const { tokens: N, tokenDim: d, informative: dI, redundant: dR } = model.dims;
  const P = c.patch_size,
    cols = W / P,
    D = H * W;
  const px = pixels.subarray(0, n * D);
  const x = tf.tensor4d(dequantizeUniform(px, new Rng(seed)), [n, H, W, 1]);
  const labels = nullLabels(n);
  const a = analyzeForward(model, x, labels);
  const z = (await a.z.data()) as Float32Array;
  disposeAnalysis(a);

  // 1. the redundant channels swapped with the next image's
  const swapped = new Float32Array(z);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < N; t++)
      for (let j = dI; j < d; j++) swapped[(b * N + t) * d + j] = z[(((b + 1) % n) * N + t) * d + j];
  const zs = tf.tensor3d(swapped, [n, N, d]);
  const xs = decodeLatents(model, zs, { labels });
  const levels = (t: tf.Tensor) => tf.tidy(() => t.abs().mean().dataSync()[0] * 127.5);
  const next = tf.concat([x.slice(1), x.slice(0, 1)]);
  const swap_levels = levels(tf.sub(xs, x));
  const next_image_levels = levels(tf.sub(x, next));
  tf.dispose([x, zs, xs, next]);

  // 2. G_R's best component per token against background patches
  const out = await redundantHeads(model, z, n);
  const components = Array.from({ length: K }, () => ({ tokens: 0, background: 0 }));
  for (let b = 0; b < n; b++) {
    const g = gmmFromRow(out, b, K, dR);
    for (let t = 0; t < N; t++) {
      const r0 = Math.floor(t / cols) * P,
        c0 = (t % cols) * P;
      let background = true;
      for (let y = 0; y < P && background; y++)
        for (let cc = 0; cc < P; cc++) if (px[b * D + (r0 + y) * W + c0 + cc] > 0) background = false;
      const k = bestComponent(g, z.subarray((b * N + t) * d + dI, (b * N + t + 1) * d));
      components[k].tokens++;
      if (background) components[k].background++;
    }
  }
  const total = n * N;
  const pBg = components.reduce((s, k) => s + k.background, 0) / total;
  let mutual = 0;
  for (const k of components) {
    if (k.tokens === 0) continue;
    for (const [m, p] of [
      [k.background, pBg],
      [k.tokens - k.background, 1 - pBg],
    ])
      if (m > 0) mutual += (m / total) * Math.log2(m / total / ((k.tokens / total) * p));
  }
  const h = (p: number) => (p > 0 ? -p * Math.log2(p) : 0);
  return {
    n,
    swap_levels,
    next_image_levels,
    components,
    background_share: pBg,
    mutual_information_bits: mutual,
    entropy_bits: h(pBg) + h(1 - pBg),
  };
}

export const redundantContentCommand: Subcommand = {
  usage: `redundant-content <model> [--dataset mnist] [--n 64] [--seed 5]
    what a FARMER model's redundant channels hold (gray images): decoding with the next image's
    redundant channels, and which G_R component explains background and stroke patches`,
  async run({ flags, json, out }: CommandContext, args: string[]) {
    const [arg, extra] = args;
    const dataset = flags.dataset('mnist');
    const n = flags.int('n', 64, { min: 2 }),
      seed = flags.seed(5);
    const report = await setupBackend(flags);
    flags.finish();
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const { model, source } = await openModel(arg);
    const c = model.config;
    if (c.prior.kind !== 'farmer') throw new Error(`${source} has a gaussian prior: no redundant channels`);
    const test = loadDataset(dataset, 'test');
    if (test.channels !== 1 || test.height !== c.image.height || test.width !== c.image.width || c.image.channels !== 1)
      throw new Error(
        `redundant-content needs a model of ${test.height}×${test.width} gray images of ${dataset}; ${source} models ${c.image.height}×${c.image.width}×${c.image.channels}`,
      );
    if (n > test.n) throw new UsageError(`--n ${n} is more than the ${test.n} test images`);
    const r = await redundantContent(model, test.images, n, seed);
    if (json) {
      out(JSON.stringify({ model: source, dataset, seed, backend: report.active, ...r }));
      return;
    }
    out(
      `swap: own image to decoded-with-the-next-image's-redundant-channels ${r.swap_levels.toFixed(1)} pixel levels; own image to next image ${r.next_image_levels.toFixed(1)} (mean absolute difference, ${n} test images)`,
    );
    r.components.forEach((k, i) => {
      if (k.tokens)
        out(
          `G_R component ${String(i).padStart(2)}: ${String(k.tokens).padStart(5)} tokens, ${((100 * k.background) / k.tokens).toFixed(0).padStart(3)}% background patches`,
        );
    });
    out(
      `background patches ${(100 * r.background_share).toFixed(1)}%; the best component carries ${r.mutual_information_bits.toFixed(3)} of the ${r.entropy_bits.toFixed(3)} bits of "background or stroke"`,
    );
  },
};
