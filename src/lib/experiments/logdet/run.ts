// The tensor work of the logdet experiment (suppl. Fig. 9): forward passes of dequantized test
// images, sampling, the forward pass of the samples, and the per-source statistics.
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted, type ExperimentContext, type ExperimentInputs } from '../types';
import { analyzeForward, disposeAnalysis, type FarmerModel } from '../../farmer/model';
import { sampleBatches, sampleSteps } from '../../farmer/sample-batches';
import type { LabelledSet } from '../../data/binfile';
import { dequantizeGaussian, dequantizeUniform } from '../../data/dequantize';
import { Rng } from '../../util/random';
import { laplacianVariances } from '../../metrics/blur';
import { modifiedZOutliers, type OutlierRule } from '../../metrics/robust';
import { spearman } from '../../metrics/rank';
import { imageDataUrl } from '../../plots/gallery';
import { forwardBatch } from '../params';
import { chooseWidth } from '../../tf/batch-width';
import { forwardFootprint, samplingFootprint } from '../../farmer/footprint';
import { denoiseSigma } from '../resolve';
import type { LogdetParams } from './params';
import { checkModel, type ImagePoint, type LogdetResult, type Source, type SourceResult } from './result';

const SAMPLE_BATCH = 16;
const PERMUTATIONS = 2000;

/** Labels the model takes for these dataset labels: none for an unconditional model. */
function testLabels(model: FarmerModel, set: LabelledSet, start: number, count: number): Int32Array | null {
  const K = model.config.num_classes;
  if (K === 0) return null;
  const y = Int32Array.from(set.labels.subarray(start, start + count));
  for (const v of y) if (v >= K) throw new Error(`the test set has label ${v} but the model has ${K} classes`);
  return y;
}

/** Model-space inputs for test images as the model was trained: uniform noise, or gaussian at σ_min. */
function dequantize(model: FarmerModel, pixels: Uint8Array, rng: Rng): Float32Array {
  const dq = model.config.dequantization;
  return dq.kind === 'uniform' ? dequantizeUniform(pixels, rng) : dequantizeGaussian(pixels, dq.sigma_min, rng);
}

interface Measured {
  logdet: Float32Array;
  perBlock: Float32Array;
  perToken: Float32Array;
}

async function measure(model: FarmerModel, x: tf.Tensor4D, labels: Int32Array | null): Promise<Measured> {
  const a = analyzeForward(model, x, labels);
  try {
    const [logdet, perBlock, perToken] = await Promise.all([
      a.logdet.data(),
      a.logdetPerBlock.data(),
      a.logdetPerToken.data(),
    ]);
    return { logdet: logdet as Float32Array, perBlock: perBlock as Float32Array, perToken: perToken as Float32Array };
  } finally {
    disposeAnalysis(a);
  }
}

/** Collects per-image rows; `finish` fits the outlier rule and the correlation. */
class SourceBuilder {
  readonly points: ImagePoint[] = [];
  readonly perToken: number[][] = [];
  readonly nonFinite: number[] = [];
  constructor(
    readonly source: Source,
    public pixels: Uint8Array,
    private model: FarmerModel,
  ) {}

  add(index: number, label: number, m: Measured, row: number): void {
    const n = this.model.config.af.blocks,
      N = this.model.dims.tokens;
    const logdet = m.logdet[row];
    if (!Number.isFinite(logdet)) {
      this.nonFinite.push(index);
      return;
    }
    this.points.push({
      source: this.source,
      index,
      label,
      logdet,
      perBlock: Array.from(m.perBlock.subarray(row * n, (row + 1) * n)),
      laplacianVar: NaN,
      z: 0,
      outlier: false,
    });
    this.perToken.push(Array.from(m.perToken.subarray(row * n * N, (row + 1) * n * N)));
  }

  finish(threshold: number, seed: number): SourceResult {
    const { height: H, width: W, channels: C } = this.model.config.image;
    const size = H * W * C;
    for (const p of this.points)
      p.laplacianVar = laplacianVariances(this.pixels.subarray(p.index * size, (p.index + 1) * size), 1, H, W, C)[0];
    const logdets = this.points.map((p) => p.logdet);
    let rule: OutlierRule | null = null;
    if (this.points.length > 0) {
      const o = modifiedZOutliers(logdets, threshold);
      rule = o.rule;
      this.points.forEach((p, i) => {
        p.z = o.z[i];
        p.outlier = o.outlier[i];
      });
    }
    const rng = new Rng(seed);
    const rho = spearman(
      logdets,
      this.points.map((p) => p.laplacianVar),
      { permutations: PERMUTATIONS, uniform: () => rng.uniform() },
    );
    this.nonFinite.sort((a, b) => a - b);
    return {
      source: this.source,
      requested: this.pixels.length / size,
      pixels: this.pixels,
      thumbnails: Array.from({ length: this.pixels.length / size }, (_, i) =>
        imageDataUrl(this.pixels, i, this.model.config.image),
      ),
      points: this.points,
      perToken: Float32Array.from(this.perToken.flat()),
      nonFinite: this.nonFinite,
      rule,
      spearman: rho,
    };
  }
}

export async function runLogdet(
  model: FarmerModel,
  inputs: ExperimentInputs,
  p: LogdetParams,
  ctx: ExperimentContext = {},
): Promise<LogdetResult> {
  checkModel(model);
  const { height: H, width: W, channels: C } = model.config.image;
  const set = inputs.testSet;
  if (p.nTest > 0 && (set.height !== H || set.width !== W || set.channels !== C))
    throw new Error(
      `the test set holds ${set.height}×${set.width}×${set.channels} images but the model takes ${H}×${W}×${C}`,
    );
  const size = H * W * C;
  const { tokens: N } = model.dims;
  const n = model.config.af.blocks;
  const nTest = Math.min(p.nTest, set.n);
  const fb = chooseWidth(nTest, forwardBatch(model.dims.pixels), forwardFootprint(model.config)); // wider on webgpu
  const testBatches = Math.ceil(nTest / fb);
  const stepsPerSample = sampleSteps(model);
  const total = testBatches + p.nSamples * stepsPerSample;
  let done = 0;
  const progress = (label: string) => ctx.onProgress?.(done, total, label);
  progress('test images');

  // Test images: the first nTest of the split, dequantized with one seeded stream.
  const test = new SourceBuilder('test', set.images.slice(0, nTest * size), model);
  const noise = new Rng(p.seed);
  for (let start = 0; start < nTest; start += fb) {
    throwIfAborted(ctx.signal);
    const count = Math.min(fb, nTest - start);
    const x = tf.tensor4d(dequantize(model, test.pixels.subarray(start * size, (start + count) * size), noise), [
      count,
      H,
      W,
      C,
    ]);
    const labels = testLabels(model, set, start, count);
    let m: Measured;
    try {
      m = await measure(model, x, labels);
    } finally {
      x.dispose();
    }
    for (let i = 0; i < count; i++) test.add(start + i, labels ? labels[i] : -1, m, i);
    done++;
    progress('test images');
  }

  const base = {
    image: { height: H, width: W, channels: C },
    grid: { rows: H / model.config.patch_size, cols: W / model.config.patch_size },
    blocks: n,
    tokens: N,
  };
  const testResult = test.finish(p.threshold, p.seed + 1);
  // The test images are done: a whole result with no samples yet, so the figures can draw it.
  if (p.nSamples > 0)
    ctx.onPartial?.({
      ...base,
      test: testResult,
      samples: new SourceBuilder('sample', new Uint8Array(0), model).finish(p.threshold, 0),
    } satisfies LogdetResult);

  // Samples: sequential AR + AF inverse per batch, then the forward pass of the finite ones on
  // their raw model-space images.
  const samples = new SourceBuilder('sample', new Uint8Array(0), model);
  const sampleStart = done;
  const drawn = await sampleBatches(model, {
    n: p.nSamples,
    batch: chooseWidth(p.nSamples, SAMPLE_BATCH, samplingFootprint(model.config, p.denoise)),
    seed: p.seed,
    T: p.T,
    s: p.s,
    denoiseSigma: denoiseSigma(model, p.denoise, inputs),
    signal: ctx.signal,
    onProgress: (k) => {
      done = sampleStart + k;
      progress('sampling');
    },
    onBatch: async ({ start, images, finite, labels }) => {
      throwIfAborted(ctx.signal);
      const keep = finite.flatMap((f, i) => (f ? [i] : []));
      if (keep.length === 0) return;
      const x = tf.gather(images, keep) as tf.Tensor4D;
      let m: Measured;
      try {
        m = await measure(model, x, labels ? Int32Array.from(keep, (i) => labels[i]) : null);
      } finally {
        x.dispose();
      }
      keep.forEach((i, row) => samples.add(start + i, labels ? labels[i] : -1, m, row));
    },
  });
  samples.pixels = drawn.pixels;
  drawn.finite.forEach((f, i) => f || samples.nonFinite.push(i));

  return {
    ...base,
    test: testResult,
    samples: samples.finish(p.threshold, p.seed + 2),
  };
}
