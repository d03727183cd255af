// Sampling (docs/model.md, "Sampling"): informative tokens one by one through the AR prior with a
// KV cache, then N i.i.d. redundant vectors from G_R, then the AF inverse. Every sample draws from
// its own seeded stream (sample i of a run: Rng(mixSeed(seed, i))), so a seed gives the same
// samples on every backend up to float rounding, and at every batch width. On webgpu the unguided
// draws run in a kernel from the numbers those streams give (sampling-gpu.ts); guidance draws on
// the CPU.
import * as tf from '@tensorflow/tfjs';
import type { FarmerModel } from './model';
import { decodeLatents, nllPerDim } from './model';
import { ArDecoder, arToken, farmerPrior } from './prior';
import { gmmFromRow, sampleGmm } from './gmm';
import { naiveCfg, resamplingCfg, TABLE6_PRESET, type ResamplingParams } from './guidance';
import { checkLabels, nullLabels } from './labels';
import { Rng } from '../util/random';
import { mixSeed } from '../util/seeds';
import { throwIfAborted } from '../util/abort';
import { fusedAvailable } from '../tf/webgpu/program';
import { drawLatentsGpu } from './sampling-gpu';

export type CfgMethod = 'naive' | 'resampling';

export interface SampleOptions {
  n: number;
  /** the run's seed: sample i of the run draws from Rng(mixSeed(seed, i)) (util/seeds.ts) */
  seed: number;
  /** the run's index of this call's first sample (batches of a run pass their start), default 0 */
  first?: number;
  /** per-sample labels; default the null label */
  labels?: Int32Array | null;
  /** mixture temperature T (softmax(logits / T)), default 1 */
  T?: number;
  /** Gaussian scale s (multiplies σ), default 1; for a gaussian prior, the latent's std */
  s?: number;
  /** T_R, s_R for the redundant group, default (T, s) */
  TRed?: number;
  sRed?: number;
  /** classifier-free guidance, needs labels */
  cfg?: { method: CfgMethod; w: number; params?: Partial<ResamplingParams> };
  /** AF attention temperature, default 1 */
  attnTemp?: number;
  /** σ of the Tweedie step x̂ = x + σ²∇log p(x) (gaussian-dequantized models; sampling-settings.ts finalSigma); absent or null = none */
  denoiseSigma?: number | null;
  /** progress: steps done of total (AR tokens, then AF blocks) */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SampleResult {
  /** [n, H, W, C] in model space [-1, 1] (not clipped) */
  images: tf.Tensor4D;
  /** Z [n, N, d] */
  z: tf.Tensor3D;
  /** per sample: false when the image holds NaN or Inf */
  finite: boolean[];
  /** naive CFG: dimensions that fell back to the conditional draw */
  cfgFallbacks: number;
}

/** One stream per sample: samples first … first + n − 1 of a run seeded `seed`. */
export function sampleStreams(seed: number, first: number, n: number): Rng[] {
  return Array.from({ length: n }, (_, b) => new Rng(mixSeed(seed, first + b)));
}

/** Z [n, N, d] from the prior: on the GPU when it can (unguided, webgpu), else drawn on the CPU. */
async function drawLatents(model: FarmerModel, o: SampleOptions): Promise<{ z: tf.Tensor3D; cfgFallbacks: number }> {
  const { tokens: N, tokenDim: d } = model.dims;
  const streams = sampleStreams(o.seed, o.first ?? 0, o.n);
  const guided = o.cfg !== undefined && o.cfg.w !== 0;
  if (fusedAvailable() && model.config.prior.kind === 'farmer' && !guided) {
    const labels = o.labels ?? nullLabels(o.n);
    checkLabels(labels, model.config.num_classes, o.n);
    const T = o.T ?? 1,
      s = o.s ?? 1;
    const total = N + model.config.af.blocks;
    const z = drawLatentsGpu(model, streams, {
      labels,
      T,
      s,
      TRed: o.TRed ?? T,
      sRed: o.sRed ?? s,
      signal: o.signal,
      onStep: (i) => o.onProgress?.(i, total),
    });
    return { z, cfgFallbacks: 0 };
  }
  const { z, cfgFallbacks } = await drawLatentsCpu(model, o, streams);
  return { z: tf.tensor3d(z, [o.n, N, d]), cfgFallbacks };
}

/** Draws Z [n, N, d] from the prior (docs/model.md, "Sampling"), downloaded. */
export async function sampleLatents(
  model: FarmerModel,
  o: SampleOptions,
): Promise<{ z: Float32Array; cfgFallbacks: number }> {
  const { z, cfgFallbacks } = await drawLatents(model, o);
  try {
    return { z: (await z.data()) as Float32Array, cfgFallbacks };
  } finally {
    z.dispose();
  }
}

/** The CPU sampler: one stream per sample (`streams[b]`), head outputs downloaded every step. */
async function drawLatentsCpu(
  model: FarmerModel,
  o: SampleOptions,
  streams: Rng[],
): Promise<{ z: Float32Array; cfgFallbacks: number }> {
  const { tokens: N, tokenDim: d, informative: dI, redundant: dR } = model.dims;
  const B = o.n;
  const T = o.T ?? 1,
    s = o.s ?? 1,
    TR = o.TRed ?? T,
    sR = o.sRed ?? s;
  const z = new Float32Array(B * N * d);
  const total = N + model.config.af.blocks;
  if (model.config.prior.kind === 'gaussian') {
    for (let b = 0; b < B; b++) for (let i = b * N * d; i < (b + 1) * N * d; i++) z[i] = s * streams[b].normal();
    return { z, cfgFallbacks: 0 };
  }
  const p = farmerPrior(model.config);
  const labels = o.labels ?? nullLabels(B);
  checkLabels(labels, model.config.num_classes, B);
  const guided = o.cfg !== undefined && o.cfg.w !== 0;
  if (guided && labels.some((y) => y < 0))
    throw new Error('classifier-free guidance needs a class label for every sample');
  const rows = guided ? 2 * B : B; // guided: conditional rows, then the same samples unconditional
  const decoder = new ArDecoder(model.params, model.config, rows);
  const resampling: ResamplingParams = { ...TABLE6_PRESET, ...o.cfg?.params };
  let cfgFallbacks = 0;
  const token = new Float32Array(rows * dI);
  try {
    let head = decoder.start(guided ? Int32Array.from([...labels, ...nullLabels(B)]) : labels);
    for (let i = 0; i <= N; i++) {
      const out = (await head.data()) as Float32Array;
      head.dispose();
      throwIfAborted(o.signal, 'sampling cancelled');
      if (i === N) {
        // G_R: N redundant vectors per sample
        for (let b = 0; b < B; b++) {
          const g = gmmFromRow(out, b, p.mixtures_redundant, dR);
          const red = new Float32Array(N * dR);
          const rng = streams[b];
          if (!guided) for (let t = 0; t < N; t++) sampleGmm(g, TR, sR, rng, red, t * dR);
          else if (o.cfg!.method === 'resampling')
            resamplingCfg(g, gmmFromRow(out, B + b, p.mixtures_redundant, dR), o.cfg!.w, resampling, rng, red, 0, N, N);
          else
            for (let t = 0; t < N; t++)
              cfgFallbacks += naiveCfg(g, gmmFromRow(out, B + b, p.mixtures_redundant, dR), o.cfg!.w, rng, red, t * dR);
          for (let t = 0; t < N; t++) z.set(red.subarray(t * dR, (t + 1) * dR), (b * N + t) * d + dI);
        }
        break;
      }
      for (let b = 0; b < B; b++) {
        const g = gmmFromRow(out, b, p.mixtures_informative, dI);
        const rng = streams[b];
        if (!guided) sampleGmm(g, T, s, rng, token, b * dI);
        else if (o.cfg!.method === 'resampling')
          resamplingCfg(
            g,
            gmmFromRow(out, B + b, p.mixtures_informative, dI),
            o.cfg!.w,
            resampling,
            rng,
            token,
            b * dI,
          );
        else
          cfgFallbacks += naiveCfg(g, gmmFromRow(out, B + b, p.mixtures_informative, dI), o.cfg!.w, rng, token, b * dI);
        if (guided) token.copyWithin((B + b) * dI, b * dI, (b + 1) * dI);
        z.set(token.subarray(b * dI, (b + 1) * dI), (b * N + arToken(model.config, i)) * d);
      }
      const t = tf.tensor2d(token, [rows, dI]);
      head = decoder.feed(t);
      t.dispose();
      o.onProgress?.(i + 1, total);
    }
  } finally {
    decoder.dispose();
  }
  return { z, cfgFallbacks };
}

/** Per sample, whether every value is finite. */
export async function finiteRows(x: tf.Tensor): Promise<boolean[]> {
  return finiteRowsOf(await x.data(), x.shape[0]);
}

/** The same for values already downloaded: `B` samples of equal size, row-major. */
export function finiteRowsOf(data: ArrayLike<number>, B: number): boolean[] {
  const per = data.length / B;
  const ok: boolean[] = [];
  for (let b = 0; b < B; b++) {
    let f = true;
    for (let i = b * per; i < (b + 1) * per && f; i++) f = Number.isFinite(data[i]);
    ok.push(f);
  }
  return ok;
}

/** TARFlow's Tweedie step x̂ = x + σ²·∇_x log p(x), σ the final training noise level. */
export function tweedieDenoise(
  model: FarmerModel,
  x: tf.Tensor4D,
  labels: Int32Array | null,
  sigma: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const D = model.dims.pixels;
    const grad = tf.grad((xi: tf.Tensor) =>
      nllPerDim(model, xi as tf.Tensor4D, labels)
        .sum()
        .mul(-D),
    )(x);
    return x.add(grad.mul(sigma * sigma)) as tf.Tensor4D;
  });
}

/** Samples n images: latents from the prior, then the flow's inverse, then the Tweedie step when asked. */
export async function sample(model: FarmerModel, o: SampleOptions): Promise<SampleResult> {
  const { z, cfgFallbacks } = await drawLatents(model, o);
  const { tokens: N } = model.dims;
  const labels = o.labels ?? null;
  let done = model.config.prior.kind === 'farmer' ? N : 0;
  const total = N + model.config.af.blocks;
  let images: tf.Tensor4D;
  try {
    images = decodeLatents(model, z, {
      labels: labels ?? nullLabels(o.n),
      attnTemp: o.attnTemp,
      onBlock: () => o.onProgress?.(++done, total),
    });
  } catch (e) {
    z.dispose();
    throw e;
  }
  if (o.denoiseSigma) {
    if (model.config.dequantization.kind !== 'gaussian')
      throw new Error('denoising needs a gaussian-dequantized model');
    const clean = tweedieDenoise(model, images, labels, o.denoiseSigma);
    images.dispose();
    images = clean;
  }
  return { images, z, finite: await finiteRows(images), cfgFallbacks };
}
