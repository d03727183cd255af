// Evaluation of one model on a test set (browser-safe): bits per dim on uniformly dequantized
// test images, and FID / IS / precision–recall of samples against test images through the
// dataset's feature network. Samples holding NaN or Inf are left out of the metrics and counted.
import * as tf from '@tensorflow/tfjs';
import { chooseWidth } from '../tf/batch-width';
import { forwardFootprint, samplingFootprint } from '../farmer/footprint';
import type { FarmerModel } from '../farmer/model';
import { analyzeForward, bitsPerDim, disposeAnalysis } from '../farmer/model';
import type { CfgMethod } from '../farmer/sampling';
import { keepFinite, sampleBatches, sampleSteps } from '../farmer/sample-batches';
import { cyclingLabels } from '../farmer/labels';
import type { Dequantization } from '../farmer/config';
import { dequantizeUniform } from '../data/dequantize';
import { Rng } from '../util/random';
import { throwIfAborted } from '../util/abort';
import type { FeatureNet } from './features';
import { imageMetrics } from './evaluate';

/** uint8 images [n, H, W, C] with labels [n] (a LabelledSet fits). */
export interface TestSet {
  n: number;
  height: number;
  width: number;
  channels: number;
  images: Uint8Array;
  labels: ArrayLike<number>;
}

export interface SamplingSettings {
  /** mixture temperature, default 1 */
  T?: number;
  /** Gaussian scale, default 1 */
  s?: number;
  TRed?: number;
  sRed?: number;
  /** classifier-free guidance weight; needs a conditional model */
  cfg?: number;
  /** default resampling */
  cfgMethod?: CfgMethod;
  /** conditional models: labels cycling 0..C−1 (default) or the null label for every sample */
  labels?: 'cycling' | 'null';
  /** σ of the Tweedie step for gaussian-dequantized models (sampling-settings.ts); null = no denoising */
  denoiseSigma?: number | null;
}

export type EvalPhase = 'bpd' | 'sample' | 'features';

export interface EvalOptions {
  bpd?: boolean;
  fid?: boolean;
  is?: boolean;
  pr?: boolean;
  /** images for BPD, samples and real images for the sample metrics: the first n of the test set */
  n: number;
  /** test images for BPD when it should differ from n (the full split costs little next to sampling); default n */
  nBpd?: number;
  /** dequantization noise (Rng(seed) over the n images in order) and sampling (sampleBatches: sample i from Rng(mixSeed(seed, i)), at any batch size) */
  seed?: number;
  /** images per forward pass / sampling call / feature batch; default: batch-width.ts chooseWidth (64, 250 for features, wider on webgpu) */
  batch?: number;
  /** BPD with the test labels (log p(x|y)) instead of the null label (log p(x)); default false */
  bpdWithLabels?: boolean;
  sampling?: SamplingSettings;
  /** precision/recall neighbours, default 3 */
  k?: number;
  /** names the features in every FID/IS label, e.g. "mnist-cnn" */
  featureName?: string;
  onProgress?: (phase: EvalPhase, done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface BpdResult {
  /** mean of (L + ln 128)/ln 2 over the finite images */
  value: number;
  /** mean −log p(x)/(N·d), nats */
  nll_per_dim: number;
  /** images averaged */
  n: number;
  /** images whose BPD was NaN or Inf (left out of the mean) */
  non_finite: number;
  seed: number;
  /** "null": log p(x) with the null label; "test": log p(x | test label); "none": unconditional model */
  labels: 'null' | 'test' | 'none';
}

export interface SamplingReport {
  n: number;
  finite: number;
  non_finite: number;
  /** indices of the samples left out */
  non_finite_indices: number[];
  seconds: number;
  images_per_s: number;
  /** "cycling 0..C−1" for conditional models, else "null" */
  labels: string;
  T: number;
  s: number;
  T_red: number;
  s_red: number;
  cfg: number | null;
  cfg_method: CfgMethod | null;
  cfg_fallbacks: number;
  /** σ of the Tweedie step applied to every sample; null = none */
  denoise_sigma: number | null;
}

export interface LabelledValue {
  value: number;
  /** e.g. "FID (mnist-cnn features, not Inception)" */
  label: string;
  n_real?: number;
  n_fake: number;
}

export interface EvalResult {
  /** requested n */
  n: number;
  bpd: BpdResult | null;
  sampling: SamplingReport | null;
  fid: LabelledValue | null;
  is: (LabelledValue & { std: number }) | null;
  precision: (LabelledValue & { k: number }) | null;
  recall: (LabelledValue & { k: number }) | null;
  /** with IS: share of samples the feature network classifies with top probability ≥ threshold; `test_value` is the same share of the n test images */
  /** `classes`: how many confidently classified samples the network reads as each class */
  confident: (LabelledValue & { threshold: number; test_value: number; classes: number[] }) | null;
  /** with IS, conditional models: share of samples classified as the label they were drawn for */
  class_agreement: LabelledValue | null;
  /** why a requested sample metric is null (e.g. too few finite samples) */
  notes: string[];
}

/** Mean BPD of the first n test images, dequantized as `farmer forward --images --seed` does. */
export async function testBpd(model: FarmerModel, test: TestSet, o: EvalOptions): Promise<BpdResult> {
  const { n, seed = 0 } = o;
  const batch = o.batch ?? chooseWidth(n, 64, forwardFootprint(model.config));
  const { height: H, width: W, channels: C } = model.config.image;
  const size = H * W * C;
  const x = dequantizeUniform(test.images.subarray(0, n * size), new Rng(seed));
  const conditional = model.config.num_classes > 0;
  const useLabels = conditional && !!o.bpdWithLabels;
  let sumBpd = 0,
    sumNll = 0,
    finite = 0;
  for (let start = 0; start < n; start += batch) {
    throwIfAborted(o.signal, 'evaluation cancelled');
    const count = Math.min(batch, n - start);
    const labels = useLabels ? Int32Array.from({ length: count }, (_, i) => test.labels[start + i]) : null;
    const xb = tf.tensor4d(x.subarray(start * size, (start + count) * size), [count, H, W, C]);
    const a = analyzeForward(model, xb, labels);
    xb.dispose();
    const nll = (await a.nllPerDim.data()) as Float32Array;
    disposeAnalysis(a);
    for (const v of nll) {
      const b = bitsPerDim(v);
      if (!Number.isFinite(b)) continue;
      sumBpd += b;
      sumNll += v;
      finite++;
    }
    o.onProgress?.('bpd', start + count, n);
  }
  return {
    value: finite ? sumBpd / finite : NaN,
    nll_per_dim: finite ? sumNll / finite : NaN,
    n: finite,
    non_finite: n - finite,
    seed,
    labels: !conditional ? 'none' : useLabels ? 'test' : 'null',
  };
}

/** n samples as uint8 pixels, finite ones only, with labels cycling over the classes (`labels`: those of the kept samples, null for unconditional models). */
export async function samplePixels(
  model: FarmerModel,
  o: EvalOptions,
): Promise<{ pixels: Uint8Array; labels: Int32Array | null; report: SamplingReport }> {
  const { n, seed = 0, sampling = {} } = o;
  const batch = o.batch ?? chooseWidth(n, 64, samplingFootprint(model.config, !!sampling.denoiseSigma));
  const C = model.config.num_classes;
  const T = sampling.T ?? 1,
    s = sampling.s ?? 1,
    TRed = sampling.TRed ?? T,
    sRed = sampling.sRed ?? s;
  const w = sampling.cfg ?? null,
    method = sampling.cfgMethod ?? 'resampling';
  const cycling = C > 0 && sampling.labels !== 'null';
  if (w !== null && C === 0)
    throw new Error('classifier-free guidance needs a class-conditional model (num_classes > 0)');
  if (w !== null && !cycling) throw new Error('classifier-free guidance needs class labels, not the null label');
  const steps = sampleSteps(model);
  const t0 = performance.now();
  const drawn = await sampleBatches(model, {
    n,
    batch,
    seed,
    T,
    s,
    TRed,
    sRed,
    labels: cycling ? (start, count) => cyclingLabels(count, C, start) : () => null,
    cfg: w === null ? undefined : { method, w },
    denoiseSigma: sampling.denoiseSigma,
    signal: o.signal,
    onProgress: (done) => o.onProgress?.('sample', Math.floor(done / steps), n),
  });
  const seconds = (performance.now() - t0) / 1000;
  const { pixels, rows } = keepFinite(drawn.pixels, drawn.finite);
  const bad = drawn.finite.flatMap((ok, i) => (ok ? [] : [i]));
  return {
    pixels,
    labels: cycling ? Int32Array.from(rows, (i) => i % C) : null,
    report: {
      n,
      finite: rows.length,
      non_finite: bad.length,
      non_finite_indices: bad,
      seconds,
      images_per_s: n / seconds,
      labels: cycling ? `cycling 0..${C - 1}` : 'null',
      T,
      s,
      T_red: TRed,
      s_red: sRed,
      cfg: w,
      cfg_method: w === null ? null : method,
      cfg_fallbacks: drawn.cfgFallbacks,
      denoise_sigma: sampling.denoiseSigma ?? null,
    },
  };
}

/** The name a feature network goes by in metric labels: "<dataset>-cnn". */
export function featureNetName(net: FeatureNet): string {
  return `${String(net.card.dataset ?? 'unknown')}-cnn`;
}

/** BPD and sample metrics of `model` on the first `o.n` test images; `net` is needed for FID/IS/P–R. */
export async function evaluateModel(
  model: FarmerModel,
  test: TestSet,
  net: FeatureNet | null,
  o: EvalOptions,
): Promise<EvalResult> {
  const { n, k = 3 } = o;
  const nBpd = o.nBpd ?? n;
  const { height: H, width: W, channels: C } = model.config.image;
  if (test.height !== H || test.width !== W || test.channels !== C)
    throw new Error(`test images are ${test.height}×${test.width}×${test.channels}; the model wants ${H}×${W}×${C}`);
  for (const [name, v] of [
    ['n', n],
    ['nBpd', nBpd],
  ] as const)
    if (!Number.isInteger(v) || v < 1 || v > test.n)
      throw new Error(`${name} must be an integer in [1, ${test.n}] (the test set's size), got ${v}`);
  const wantSamples = !!(o.fid || o.is || o.pr);
  if (wantSamples && !net) throw new Error('FID, IS and precision/recall need a feature network');
  if (o.bpd && model.config.student)
    throw new Error('a distilled student has no likelihood: evaluate BPD on its teacher');
  const result: EvalResult = {
    n,
    bpd: null,
    sampling: null,
    fid: null,
    is: null,
    precision: null,
    recall: null,
    confident: null,
    class_agreement: null,
    notes: [],
  };
  if (o.bpd) result.bpd = await testBpd(model, test, { ...o, n: nBpd });
  if (!wantSamples) return result;

  const spec = net!.classifier.spec;
  if (spec.height !== H || spec.width !== W || spec.channels !== C)
    throw new Error(
      `the feature network takes ${spec.height}×${spec.width}×${spec.channels} images; the model makes ${H}×${W}×${C}`,
    );
  const name = o.featureName ?? featureNetName(net!);
  const { pixels, labels, report } = await samplePixels(model, o);
  result.sampling = report;
  const m = report.finite;
  const real = test.images.subarray(0, n * H * W * C);
  const fid = !!o.fid && m >= 2,
    is = !!o.is && m >= 1,
    pr = !!o.pr && m > k && n > k;
  if (o.fid && !fid) result.notes.push(`FID needs at least 2 finite samples, got ${m}`);
  if (o.is && !is) result.notes.push('IS needs at least 1 finite sample, got 0');
  if (o.pr && !pr)
    result.notes.push(
      `precision/recall with k = ${k} needs more than ${k} finite samples and test images, got ${m} and ${n}`,
    );
  if (fid && Math.min(n, m) < 1000)
    result.notes.push(
      `FID from ${Math.min(n, m)} images is biased upward (it falls as n grows): compare models only at the same n`,
    );
  if (!fid && !is && !pr) return result;
  o.onProgress?.('features', 0, 1);
  const r = await imageMetrics(net!, real, n, pixels, m, {
    fid,
    is,
    pr,
    k,
    batchSize: o.batch,
    fakeLabels: labels ?? undefined,
  });
  o.onProgress?.('features', 1, 1);
  if (r.fid !== undefined)
    result.fid = { value: r.fid, label: `FID (${name} features, not Inception)`, n_real: n, n_fake: m };
  if (r.inception)
    result.is = {
      value: r.inception.mean,
      std: r.inception.std,
      label: `IS (${name} class probabilities, not Inception)`,
      n_fake: m,
    };
  if (r.precision !== undefined)
    result.precision = { value: r.precision, k, label: `precision (${name} features, k = ${k})`, n_real: n, n_fake: m };
  if (r.recall !== undefined)
    result.recall = { value: r.recall, k, label: `recall (${name} features, k = ${k})`, n_real: n, n_fake: m };
  if (r.confident)
    result.confident = {
      value: r.confident.fake,
      test_value: r.confident.real,
      threshold: r.confident.threshold,
      classes: r.confident.fake_classes,
      label: `confidently classified (${name}, top probability ≥ ${r.confident.threshold})`,
      n_real: n,
      n_fake: m,
    };
  if (r.agreement !== undefined)
    result.class_agreement = {
      value: r.agreement,
      label: `class agreement (${name} reads the label asked)`,
      n_fake: m,
    };
  return result;
}
