// Likelihood in bits per dimension (paper-notes item 4, supplementary Table 6): test BPD under
// uniform dequantization, split into where the bits come from — the AR prior's informative
// channels, its redundant channels, the flow's log-determinant — per image, per class and per
// patch, against independent-pixel histogram baselines that know nothing of shape.
// The tensor work lives in likelihood-run.ts, imported by `run` only.
import type { Experiment, ExperimentContext, ExperimentInputs, Figure } from './types';
import type { FarmerModel } from '../farmer/model';
import type { HistogramBaseline } from '../metrics/histogram-baseline';
import { intParam, seedParam } from './params';
import { bpdByClass, bpdHistogram, bitsMap, termsChart } from '../plots/likelihood';

export type LikelihoodParams = {
  /** the first n test images, default 256 */
  n: number;
  /** seeds the uniform dequantization noise */
  seed: number;
  /** log p(x | y) with the test labels instead of log p(x) with the null label (class-conditional models) */
  conditional: boolean;
};

/**
 * One image's bits per dimension and its parts, all in bits/dim:
 * bpd = log₂128 + priorInformative + priorRedundant + flow (spec §1: BPD = (L + ln 128)/ln 2).
 */
export interface ImageBits {
  index: number;
  /** the test set's class label */
  label: number;
  bpd: number;
  /** −Σ_i log G_i(zI_i) / (D ln 2) */
  priorInformative: number;
  /** −Σ_i log G_R(zR_i) / (D ln 2); the whole prior for a Gaussian prior */
  priorRedundant: number;
  /** −logdet / (D ln 2) */
  flow: number;
}

/** log₂ 128: the [−1, 1] model space against 256 levels of 8 bits */
export const SCALE_BITS = 7;

export interface ClassBits {
  label: number;
  n: number;
  mean: number;
  /** half-width of the normal 95% interval of the mean; NaN for one image */
  ci95: number;
}

export interface LikelihoodSummary {
  n: number;
  bpd: number;
  ci95: number;
  priorInformative: number;
  priorRedundant: number;
  flow: number;
}

export interface LikelihoodResult {
  image: { height: number; width: number; channels: number };
  grid: { rows: number; cols: number };
  /** test images asked for (measured so far: images plus nonFinite) */
  requested: number;
  prior: 'farmer' | 'gaussian';
  /** finite images, in index order */
  images: ImageBits[];
  /** test indices whose BPD is NaN/Inf: left out of every statistic */
  nonFinite: number[];
  summary: LikelihoodSummary;
  byClass: ClassBits[];
  /** mean bits/dim of each patch over the finite images, raster order: total, prior part, flow part */
  perToken: { total: Float64Array; prior: Float64Array; flow: Float64Array };
  /** fitted on the test images after the first n; null when none are left */
  baseline: HistogramBaseline | null;
}

export function checkModel(model: FarmerModel): void {
  if (model.config.student) throw new Error('the likelihood notebook needs a model with a forward pass; a distilled student has none (use its teacher)');
}

function defaults(model: FarmerModel): LikelihoodParams {
  void model;
  return { n: 256, seed: 0, conditional: false };
}

function parseParams(raw: Record<string, unknown>, model: FarmerModel): LikelihoodParams {
  checkModel(model);
  const d = defaults(model);
  const n = intParam(raw, 'n', d.n, 1, 100_000);
  const seed = seedParam(raw, d.seed);
  const c = raw.conditional ?? d.conditional;
  const conditional = c === true || c === 'true' ? true : c === false || c === 'false' ? false : null;
  if (conditional === null) throw new Error(`invalid conditional: ${JSON.stringify(raw.conditional)} (true or false)`);
  if (conditional && model.config.num_classes === 0) throw new Error('invalid conditional: this model is unconditional (num_classes = 0)');
  return { n, seed, conditional };
}

function cost(p: LikelihoodParams, model: FarmerModel): { units: number; description: string } {
  void model;
  return { units: p.n, description: `${p.n} test images through the forward pass (AF and AR prior in parallel, no sampling)` };
}

async function run(model: FarmerModel, inputs: ExperimentInputs, p: LikelihoodParams, ctx: ExperimentContext = {}): Promise<LikelihoodResult> {
  const { runLikelihood } = await import('./likelihood-run');
  return runLikelihood(model, inputs, p, ctx);
}

function meanAndCi(values: readonly number[]): { mean: number; ci95: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, ci95: NaN };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, ci95: NaN };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { mean, ci95: 1.96 * Math.sqrt(variance / n) };
}

/** Means over the finite images, with a normal 95% interval for the BPD. */
export function summarize(images: readonly ImageBits[]): LikelihoodSummary {
  const mean = (f: (b: ImageBits) => number) => (images.length ? images.reduce((s, b) => s + f(b), 0) / images.length : NaN);
  const { mean: bpd, ci95 } = meanAndCi(images.map((b) => b.bpd));
  return { n: images.length, bpd, ci95, priorInformative: mean((b) => b.priorInformative), priorRedundant: mean((b) => b.priorRedundant), flow: mean((b) => b.flow) };
}

export function classBits(images: readonly ImageBits[]): ClassBits[] {
  const by = new Map<number, number[]>();
  for (const b of images) by.set(b.label, [...(by.get(b.label) ?? []), b.bpd]);
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([label, v]) => ({ label, n: v.length, ...meanAndCi(v) }));
}

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–');

/** The model's mean BPD against the histogram baselines, in words. */
export function describeAgainstBaseline(r: LikelihoodResult): string {
  const s = r.summary;
  if (s.n === 0) return 'No finite BPD yet.';
  const head = `Mean test BPD ${f3(s.bpd)} ± ${f3(s.ci95)} (95% interval) over ${s.n} images`;
  const b = r.baseline;
  if (!b) return `${head}; no test images are left after the first ${r.requested} to fit the histogram baselines.`;
  const vs =
    s.bpd > b.perPosition
      ? `above the ${f3(b.perPosition)} bits/dim of independent pixels with one histogram per position: the model has not yet learned even the per-pixel value distributions, let alone shapes`
      : `below the ${f3(b.perPosition)} bits/dim of independent pixels with one histogram per position, by ${f3(b.perPosition - s.bpd)}: those bits come from dependencies between pixels`;
  return `${head}, ${vs}.`;
}

function toJSON(r: LikelihoodResult, p: LikelihoodParams): unknown {
  const s = r.summary;
  return {
    experiment: 'likelihood',
    params: p,
    dequantization: 'uniform (BPD = (L + ln 128)/ln 2, spec §1)',
    labels: p.conditional ? 'test labels: log p(x | y)' : 'null label: log p(x)',
    summary: {
      n: s.n, bpd: s.bpd, ci95: s.ci95,
      terms_bits_per_dim: { scale_log2_128: SCALE_BITS, prior_informative: s.priorInformative, prior_redundant: s.priorRedundant, flow_minus_logdet: s.flow },
    },
    non_finite: r.nonFinite,
    baseline: r.baseline && {
      per_position: r.baseline.perPosition, shared: r.baseline.shared, fitted_on: `test images ${r.requested}–${r.requested + r.baseline.fitted - 1}`, evaluated: r.baseline.evaluated,
    },
    reading: describeAgainstBaseline(r),
    by_class: r.byClass.map((c) => ({ label: c.label, n: c.n, bpd: c.mean, ci95: c.ci95 })),
    per_token: { order: `raster over the ${r.grid.rows}×${r.grid.cols} patch grid; bits per dimension`, total: Array.from(r.perToken.total), prior: Array.from(r.perToken.prior), flow: Array.from(r.perToken.flow) },
    images: r.images.map((b) => ({ index: b.index, label: b.label, bpd: b.bpd, prior_informative: b.priorInformative, prior_redundant: b.priorRedundant, flow: b.flow })),
  };
}

function* figures(r: LikelihoodResult, p: LikelihoodParams, doc: Document): Generator<Figure> {
  void p;
  if (r.images.length === 0) return;
  yield { name: 'bpd-histogram', node: bpdHistogram(doc, r) };
  yield { name: 'bpd-terms', node: termsChart(doc, r) };
  yield { name: 'bits-map', node: bitsMap(doc, r) };
  yield { name: 'bpd-by-class', node: bpdByClass(doc, r) };
}

export const experiment: Experiment<LikelihoodParams, LikelihoodResult> = {
  id: 'likelihood',
  title: 'Likelihood in bits per dimension',
  defaults,
  parseParams,
  cost,
  run,
  toJSON,
  figures,
};
