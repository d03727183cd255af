// Likelihood baselines that know nothing of shape: every pixel independent, its 256 values counted
// over a fitting set (add-½ smoothing), either one histogram per position or one shared by all.
// Under uniform dequantization a discrete model's BPD equals its discrete cross-entropy in bits,
// so these read on the same scale as a flow's test BPD.

export interface HistogramBaseline {
  /** bits per dimension with one histogram per pixel position (and channel) */
  perPosition: number;
  /** bits per dimension with one histogram for all positions */
  shared: number;
  /** images the histograms were counted on, and evaluated on */
  fitted: number;
  evaluated: number;
}

/**
 * Fits on `fit` (uint8, `nFit` images of `dims` values each) and returns the mean bits per
 * dimension of `evaluate` (`nEval` images).
 */
export function histogramBaseline(
  fit: Uint8Array,
  nFit: number,
  evaluate: Uint8Array,
  nEval: number,
  dims: number,
): HistogramBaseline {
  if (fit.length < nFit * dims || evaluate.length < nEval * dims)
    throw new Error('histogramBaseline: fewer pixels than nFit/nEval images of dims values');
  if (nFit < 1 || nEval < 1) throw new Error('histogramBaseline: needs at least one image to fit and one to evaluate');
  const perPosition = new Float64Array(dims * 256).fill(0.5);
  const shared = new Float64Array(256).fill(0.5);
  for (let i = 0; i < nFit * dims; i++) {
    perPosition[(i % dims) * 256 + fit[i]]++;
    shared[fit[i]]++;
  }
  const totalPosition = nFit + 128,
    totalShared = nFit * dims + 128;
  let bitsPosition = 0,
    bitsShared = 0;
  for (let i = 0; i < nEval * dims; i++) {
    const v = evaluate[i];
    bitsPosition -= Math.log2(perPosition[(i % dims) * 256 + v] / totalPosition);
    bitsShared -= Math.log2(shared[v] / totalShared);
  }
  return {
    perPosition: bitsPosition / (nEval * dims),
    shared: bitsShared / (nEval * dims),
    fitted: nFit,
    evaluated: nEval,
  };
}
