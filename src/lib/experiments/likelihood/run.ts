// The tensor work of the likelihood experiment (suppl. Table 6): forward passes of uniformly
// dequantized test images, split into prior and flow terms per image and per patch.
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted, type ExperimentContext, type ExperimentInputs } from '../types';
import { analyzeForward, disposeAnalysis, type FarmerModel } from '../../farmer/model';
import { dequantizeUniform } from '../../data/dequantize';
import { histogramBaseline } from '../../metrics/histogram-baseline';
import { Rng } from '../../util/random';
import { forwardBatch } from '../params';
import { chooseWidth } from '../../tf/batch-width';
import { forwardFootprint } from '../../farmer/footprint';
import type { LikelihoodParams } from './params';
import { SCALE_BITS, checkModel, classBits, summarize, type ImageBits, type LikelihoodResult } from './result';

/** Running per-patch sums in nats over the finite images, turned into mean bits/dim on read. */
class PatchBits {
  readonly prior: Float64Array;
  readonly flow: Float64Array;
  count = 0;
  constructor(
    private tokens: number,
    private tokenDim: number,
  ) {
    this.prior = new Float64Array(tokens);
    this.flow = new Float64Array(tokens);
  }

  add(
    info: ArrayLike<number>,
    red: ArrayLike<number>,
    logdetPerToken: ArrayLike<number>,
    row: number,
    blocks: number,
  ): void {
    const N = this.tokens;
    for (let t = 0; t < N; t++) {
      this.prior[t] -= info[row * N + t] + red[row * N + t];
      for (let k = 0; k < blocks; k++) this.flow[t] -= logdetPerToken[(row * blocks + k) * N + t];
    }
    this.count++;
  }

  /** mean bits per dimension of each patch: log₂128 + (prior + flow nats)/(d ln 2) */
  means(): LikelihoodResult['perToken'] {
    const N = this.tokens,
      scale = 1 / (Math.max(1, this.count) * this.tokenDim * Math.LN2);
    const prior = this.prior.map((v) => v * scale);
    const flow = this.flow.map((v) => v * scale);
    const total = new Float64Array(N);
    for (let t = 0; t < N; t++) total[t] = this.count ? SCALE_BITS + prior[t] + flow[t] : NaN;
    return { total, prior, flow };
  }
}

export async function runLikelihood(
  model: FarmerModel,
  inputs: ExperimentInputs,
  p: LikelihoodParams,
  ctx: ExperimentContext = {},
): Promise<LikelihoodResult> {
  checkModel(model);
  const { height: H, width: W, channels: C } = model.config.image;
  const set = inputs.testSet;
  if (set.height !== H || set.width !== W || set.channels !== C)
    throw new Error(
      `the test set holds ${set.height}×${set.width}×${set.channels} images but the model takes ${H}×${W}×${C}`,
    );
  if (p.conditional && model.config.num_classes === 0)
    throw new Error('conditional likelihood needs a class-conditional model');
  const size = H * W * C;
  const { tokens: N, tokenDim: d, pixels: D } = model.dims;
  const blocks = model.config.af.blocks;
  const n = Math.min(p.n, set.n);
  const batch = chooseWidth(n, forwardBatch(size), forwardFootprint(model.config)); // wider on webgpu
  const x = dequantizeUniform(set.images.subarray(0, n * size), new Rng(p.seed)); // as `farmer eval --bpd`
  const images: ImageBits[] = [];
  const nonFinite: number[] = [];
  const patches = new PatchBits(N, d);
  const toBits = 1 / (D * Math.LN2);
  const base = {
    image: { height: H, width: W, channels: C },
    grid: { rows: H / model.config.patch_size, cols: W / model.config.patch_size },
    requested: n,
    prior: model.config.prior.kind,
  };
  const snapshot = (): LikelihoodResult => ({
    ...base,
    images: [...images],
    nonFinite: [...nonFinite],
    summary: summarize(images),
    byClass: classBits(images),
    perToken: patches.means(),
    baseline: null,
  });

  ctx.onProgress?.(0, n, 'forward pass');
  for (let start = 0; start < n; start += batch) {
    throwIfAborted(ctx.signal);
    const count = Math.min(batch, n - start);
    const labels = p.conditional ? Int32Array.from(set.labels.subarray(start, start + count)) : null;
    const xb = tf.tensor4d(x.subarray(start * size, (start + count) * size), [count, H, W, C]);
    const a = analyzeForward(model, xb, labels);
    xb.dispose();
    let logdet, perToken, info, red;
    try {
      [logdet, perToken, info, red] = await Promise.all([
        a.logdet.data(),
        a.logdetPerToken.data(),
        a.logPriorInformative.data(),
        a.logPriorRedundant.data(),
      ]);
    } finally {
      disposeAnalysis(a);
    }
    for (let i = 0; i < count; i++) {
      let infoSum = 0,
        redSum = 0;
      for (let t = 0; t < N; t++) {
        infoSum += info[i * N + t];
        redSum += red[i * N + t];
      }
      const bits: ImageBits = {
        index: start + i,
        label: set.labels[start + i],
        bpd: 0,
        priorInformative: -infoSum * toBits,
        priorRedundant: -redSum * toBits,
        flow: -logdet[i] * toBits,
      };
      bits.bpd = SCALE_BITS + bits.priorInformative + bits.priorRedundant + bits.flow;
      if (!Number.isFinite(bits.bpd)) {
        nonFinite.push(start + i);
        continue;
      }
      images.push(bits);
      patches.add(info, red, perToken, i, blocks);
    }
    ctx.onProgress?.(start + count, n, 'forward pass');
    if (start + count < n) ctx.onPartial?.(snapshot());
  }
  const result = snapshot();
  if (set.n > n) result.baseline = histogramBaseline(set.images.subarray(n * size), set.n - n, set.images, n, size);
  return result;
}
