// Logdet outliers (supplementary Fig. 9): per-image log|det ∂Z/∂X| of test images and of samples,
// per block and per token, the outliers by a robust rule, and how logdet relates to sharpness
// (variance of the Laplacian). The paper's claim: samples with outlying (large) logdet look
// blurred, which predicts a negative rank correlation between logdet and sharpness.
// The tensor work lives in logdet-run.ts, imported by `run` only, so the page's main thread
// never loads TensorFlow.js for this module.
import type { Experiment, ExperimentContext, ExperimentInputs, Figure } from './types';
import type { FarmerModel } from '../farmer/model';
import { describeRule, type OutlierRule } from '../metrics/robust';
import { intParam, numParam, seedParam } from './params';
import type { Correlation } from '../metrics/rank';
import { blurScatter, imageGallery, logdetHistogram, perBlockHistogram, tokenHeatmap } from '../plots/logdet';

export type LogdetParams = {
  /** test images through the forward pass (the first n of the test split), default 256 */
  nTest: number;
  /** generated samples, default 32; labels cycle through the classes */
  nSamples: number;
  /** mixture temperature T of sampling, default 1 */
  T: number;
  /** Gaussian scale s of sampling (multiplies σ), default 1 */
  s: number;
  /** seeds the dequantization noise, the samples and the permutation test */
  seed: number;
  /** |modified z| above this is an outlier; Iglewicz–Hoaglin's 3.5 */
  threshold: number;
};

export type Source = 'test' | 'sample';

/** One image's numbers; `index` is its row in its source's `pixels` (and its test-set index or sample number). */
export interface ImagePoint {
  source: Source;
  index: number;
  /** class label; −1 for the null label */
  label: number;
  /** Σ_k logdet_k in nats */
  logdet: number;
  /** [n blocks] in nats */
  perBlock: number[];
  /** variance of the 3×3 Laplacian of the shown uint8 image's luminance */
  laplacianVar: number;
  /** modified z-score of logdet within its source */
  z: number;
  outlier: boolean;
}

export interface SourceResult {
  source: Source;
  /** images asked for (rows of `pixels`) */
  requested: number;
  /** the shown images, uint8 [requested, H, W, C]; samples mapped back by the inverse of the model's dequantization, clipped */
  pixels: Uint8Array;
  /** row i of `pixels` as a PNG data URL (encoded in the worker, so figures stay cheap) */
  thumbnails: string[];
  /** finite images, in index order */
  points: ImagePoint[];
  /** per-token logdet of each point, [points.length, blocks, tokens], raster token order */
  perToken: Float32Array;
  /** sample numbers whose pixels or logdet are NaN/Inf: excluded from every statistic */
  nonFinite: number[];
  /** the outlier rule fitted to this source's logdets; null without points */
  rule: OutlierRule | null;
  /** Spearman ρ of (logdet, variance of the Laplacian) */
  spearman: Correlation;
}

export interface LogdetResult {
  image: { height: number; width: number; channels: number };
  /** tokens lie on a rows × cols patch grid */
  grid: { rows: number; cols: number };
  blocks: number;
  tokens: number;
  test: SourceResult;
  samples: SourceResult;
}

export function checkModel(model: FarmerModel): void {
  if (model.config.student) throw new Error('the logdet notebook needs a model with a forward pass; a distilled student has none (use its teacher)');
}

function defaults(model: FarmerModel): LogdetParams {
  void model;
  return { nTest: 256, nSamples: 32, T: 1, s: 1, seed: 0, threshold: 3.5 };
}

function parseParams(raw: Record<string, unknown>, model: FarmerModel): LogdetParams {
  checkModel(model);
  const d = defaults(model);
  const p: LogdetParams = {
    nTest: intParam(raw, 'nTest', d.nTest, 0, 100_000),
    nSamples: intParam(raw, 'nSamples', d.nSamples, 0, 10_000),
    T: numParam(raw, 'T', d.T, 0, 100),
    s: numParam(raw, 's', d.s, 0, 100),
    seed: seedParam(raw, d.seed),
    threshold: numParam(raw, 'threshold', d.threshold, 0, 1000),
  };
  if (p.nTest + p.nSamples < 1) throw new Error('invalid nTest: nTest and nSamples are both 0 (nothing to measure)');
  return p;
}

function cost(p: LogdetParams, model: FarmerModel): { units: number; description: string } {
  const { tokens: N } = model.dims;
  const n = model.config.af.blocks;
  return {
    units: p.nTest + p.nSamples * N,
    description:
      `${p.nTest} test images through the forward pass; ${p.nSamples} samples, each ${N} sequential AR steps ` +
      `and ${n} AF inverse blocks of ${N} sequential token steps, then the forward pass`,
  };
}

async function run(model: FarmerModel, inputs: ExperimentInputs, p: LogdetParams, ctx: ExperimentContext = {}): Promise<LogdetResult> {
  const { runLogdet } = await import('./logdet-run');
  return runLogdet(model, inputs, p, ctx);
}

/** Which heatmap: the mean over a source's images or one image (by its point position), one block or the total. */
export interface HeatmapChoice {
  source: Source;
  /** 'mean', or the position of the image in `points` */
  image: 'mean' | number;
  /** 'total' (Σ over blocks) or a block number */
  block: 'total' | number;
}

/** Per-token logdet [tokens] in raster order for a choice; empty when the source has no points. */
export function heatmapValues(r: LogdetResult, c: HeatmapChoice): Float64Array {
  const src = c.source === 'test' ? r.test : r.samples;
  const { blocks: n, tokens: N } = r;
  const out = new Float64Array(N);
  const images = c.image === 'mean' ? src.points.map((_, i) => i) : [c.image];
  if (images.length === 0) return new Float64Array(0);
  for (const i of images) {
    if (!(i >= 0 && i < src.points.length)) throw new Error(`invalid image: ${i} (the ${c.source} set has ${src.points.length} finite images)`);
    for (let k = 0; k < n; k++) {
      if (c.block !== 'total' && c.block !== k) continue;
      const o = (i * n + k) * N;
      for (let t = 0; t < N; t++) out[t] += src.perToken[o + t];
    }
  }
  for (let t = 0; t < N; t++) out[t] /= images.length;
  return out;
}

/** Points sorted for the gallery: outliers first, each group by logdet, largest first. */
export function galleryOrder(points: readonly ImagePoint[]): ImagePoint[] {
  return [...points].sort((a, b) => Number(b.outlier) - Number(a.outlier) || b.logdet - a.logdet || a.index - b.index);
}

/** The measured sign in plain words, against the paper's prediction. */
export function describeCorrelation(c: Correlation, what: string): string {
  if (!Number.isFinite(c.rho)) return `${what}: Spearman ρ is undefined (${c.n} images; it needs at least 2 with differing values).`;
  const rho = `Spearman ρ(logdet, variance of the Laplacian) = ${c.rho.toFixed(3)} over ${c.n} ${what}`;
  const p = Number.isFinite(c.p) ? ` (permutation p ${c.p < 0.001 ? '< 0.001' : `= ${c.p.toFixed(3)}`})` : '';
  const sign =
    c.rho < 0
      ? 'negative: higher logdet goes with less sharp images, the sign the paper’s claim predicts'
      : c.rho > 0
        ? 'positive: higher logdet goes with sharper images, the opposite of the paper’s claim'
        : 'zero: no monotone relation';
  return `${rho}${p}: ${sign}.`;
}

export const PREDICTION = 'The paper’s claim (outlying, large logdet looks blurred) predicts a negative correlation: higher logdet, less sharp.';

function ruleJSON(rule: OutlierRule | null) {
  return rule && { median: rule.median, mad: rule.mad, scale: rule.scale, scale_kind: rule.scaleKind, lower: rule.lower, upper: rule.upper };
}

function heatmapJSON(r: LogdetResult, source: Source, image: 'mean' | number) {
  return {
    total: Array.from(heatmapValues(r, { source, image, block: 'total' })),
    per_block: Array.from({ length: r.blocks }, (_, k) => Array.from(heatmapValues(r, { source, image, block: k }))),
  };
}

function toJSON(r: LogdetResult, p: LogdetParams): unknown {
  const rule = r.test.rule ?? r.samples.rule;
  const first = galleryOrder(r.samples.points)[0];
  return {
    experiment: 'logdet',
    params: p,
    image: r.image,
    grid: r.grid,
    rule: {
      text: rule ? describeRule(rule) : `modified z-score (Iglewicz–Hoaglin), outlier when |M| > ${p.threshold}`,
      threshold: p.threshold,
      fitted_per_source: true,
      test: ruleJSON(r.test.rule),
      samples: ruleJSON(r.samples.rule),
    },
    images: [...r.test.points, ...r.samples.points].map((q) => ({
      source: q.source, index: q.index, label: q.label, logdet: q.logdet, per_block: q.perBlock,
      laplacian_var: q.laplacianVar, modified_z: q.z, outlier: q.outlier,
    })),
    non_finite_samples: r.samples.nonFinite,
    correlations: {
      prediction: PREDICTION,
      test: { spearman: r.test.spearman.rho, n: r.test.spearman.n, p: r.test.spearman.p, text: describeCorrelation(r.test.spearman, 'test images') },
      samples: { spearman: r.samples.spearman.rho, n: r.samples.spearman.n, p: r.samples.spearman.p, text: describeCorrelation(r.samples.spearman, 'samples') },
    },
    heatmaps: {
      order: 'raster over the rows × cols patch grid; nats per token',
      test_mean: heatmapJSON(r, 'test', 'mean'),
      samples_mean: heatmapJSON(r, 'sample', 'mean'),
      ...(first && {
        first_gallery_sample: { index: first.index, outlier: first.outlier, ...heatmapJSON(r, 'sample', r.samples.points.indexOf(first)) },
      }),
    },
  };
}

/** The figures one by one: histograms, per-token maps, the blur scatter, the two galleries. */
function* figures(r: LogdetResult, p: LogdetParams, doc: Document): Generator<Figure> {
  const points = [...r.test.points, ...r.samples.points];
  const rules = [r.test, r.samples].flatMap((s) => (s.rule ? [{ source: s.source, ...s.rule }] : []));
  const panels = [
    ...(['test', 'sample'] as const).flatMap((source) =>
      (source === 'test' ? r.test : r.samples).points.length === 0 ? [] : [{ label: `${source === 'test' ? 'test' : 'samples'} mean, total`, values: heatmapValues(r, { source, image: 'mean', block: 'total' }) }],
    ),
  ];
  const first = galleryOrder(r.samples.points)[0];
  if (first)
    panels.push({ label: `sample ${first.index} (first in the gallery), total`, values: heatmapValues(r, { source: 'sample', image: r.samples.points.indexOf(first), block: 'total' }) });
  const gallery = (s: SourceResult) => {
    const what = s.source === 'test' ? 'Test images' : 'Samples';
    const left = s.nonFinite.length > 0 ? `; ${s.nonFinite.length} with NaN/Inf left out` : '';
    const title = `${what} by logdet (nats), outliers (|M| > ${p.threshold}, red) first${left}`;
    return imageGallery(doc, galleryOrder(s.points).map((q) => ({ source: q.source, index: q.index, logdet: q.logdet, outlier: q.outlier, href: s.thumbnails[q.index] })), r.image, { title });
  };
  yield { name: 'logdet-histogram', node: logdetHistogram(doc, points, rules) };
  yield { name: 'logdet-per-block', node: perBlockHistogram(doc, points) };
  yield { name: 'token-heatmap', node: tokenHeatmap(doc, r.grid, panels, { title: `Per-token logdet on the ${r.grid.rows}×${r.grid.cols} patch grid, all blocks; red: the flow stretches volume there` }) };
  yield { name: 'blur-scatter', node: blurScatter(doc, points, { test: r.test.spearman, sample: r.samples.spearman }) };
  yield { name: 'gallery-samples', node: gallery(r.samples) };
  yield { name: 'gallery-test', node: gallery(r.test) };
}

export const experiment: Experiment<LogdetParams, LogdetResult> = {
  id: 'logdet',
  title: 'Logdet outliers',
  defaults,
  parseParams,
  cost,
  run,
  toJSON,
  figures,
};
