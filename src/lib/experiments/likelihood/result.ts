// What the likelihood experiment (suppl. Table 6) returns: bits per dimension per image and their
// parts, and the summaries (means with 95% intervals, per class) the run and the page share.
import type { FarmerModel } from '../../farmer/model';
import type { HistogramBaseline } from '../../metrics/histogram-baseline';

/**
 * One image's bits per dimension and its parts, all in bits/dim:
 * bpd = log₂128 + priorInformative + priorRedundant + flow, since BPD = (L + ln 128)/ln 2
 * (docs/model.md, "Likelihood and loss").
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
  if (model.config.student)
    throw new Error(
      'the likelihood notebook needs a model with a forward pass; a distilled student has none (use its teacher)',
    );
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
  const mean = (f: (b: ImageBits) => number) =>
    images.length ? images.reduce((s, b) => s + f(b), 0) / images.length : NaN;
  const { mean: bpd, ci95 } = meanAndCi(images.map((b) => b.bpd));
  return {
    n: images.length,
    bpd,
    ci95,
    priorInformative: mean((b) => b.priorInformative),
    priorRedundant: mean((b) => b.priorRedundant),
    flow: mean((b) => b.flow),
  };
}

export function classBits(images: readonly ImageBits[]): ClassBits[] {
  const by = new Map<number, number[]>();
  for (const b of images) by.set(b.label, [...(by.get(b.label) ?? []), b.bpd]);
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([label, v]) => ({ label, n: v.length, ...meanAndCi(v) }));
}
