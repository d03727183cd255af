// The outlier rule of the logdet notebook: Iglewicz & Hoaglin's modified z-score,
//   M_i = 0.6745·(x_i − median)/MAD,  MAD = median |x_i − median|,
// and x_i is an outlier when |M_i| > 3.5 (their recommended cut-off). 0.6745 is the 0.75
// quantile of N(0, 1), so M is a z-score for normal data. When more than half the values are
// equal (MAD = 0) the scale falls back to 1.253314·(mean |x_i − median|), as they suggest.

/** Median of the values (a sorted copy; the input is not changed). NaN for none. */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** MAD = median |x − median(x)| (unscaled). */
export function medianAbsoluteDeviation(values: ArrayLike<number>, centre = median(values)): number {
  return median(Array.from(values, (v) => Math.abs(v - centre)));
}

export interface OutlierRule {
  /** |M| above this flags an outlier; Iglewicz–Hoaglin recommend 3.5 */
  threshold: number;
  median: number;
  /** median |x − median| */
  mad: number;
  /** the spread M divides by: MAD/0.6745, or 1.253314·meanAD when MAD = 0; 0 when all values are equal */
  scale: number;
  /** which spread was used */
  scaleKind: 'mad' | 'mean-ad' | 'none';
  /** the values outside [lower, upper] are outliers */
  lower: number;
  upper: number;
}

export interface OutlierResult {
  rule: OutlierRule;
  /** M_i per value (0 when scale = 0) */
  z: Float64Array;
  outlier: boolean[];
}

/** Flags outliers of finite values by |M_i| > threshold. */
export function modifiedZOutliers(values: ArrayLike<number>, threshold = 3.5): OutlierResult {
  if (!(threshold > 0)) throw new Error(`invalid threshold: ${threshold} (must be > 0)`);
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]))
      throw new Error(`invalid value ${values[i]} at ${i}: the outlier rule takes finite values only`);
  const med = median(values);
  const mad = medianAbsoluteDeviation(values, med);
  let scale = mad / 0.6745;
  let scaleKind: OutlierRule['scaleKind'] = 'mad';
  if (mad === 0) {
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += Math.abs(values[i] - med);
    scale = values.length > 0 ? (1.253314 * sum) / values.length : 0;
    scaleKind = scale > 0 ? 'mean-ad' : 'none';
  }
  const z = new Float64Array(values.length);
  const outlier: boolean[] = [];
  for (let i = 0; i < values.length; i++) {
    z[i] = scale > 0 ? (values[i] - med) / scale : 0;
    outlier.push(Math.abs(z[i]) > threshold);
  }
  const rule: OutlierRule = {
    threshold,
    median: med,
    mad,
    scale,
    scaleKind,
    lower: scale > 0 ? med - threshold * scale : med,
    upper: scale > 0 ? med + threshold * scale : med,
  };
  return { rule, z, outlier };
}

/** The rule in one sentence, for the page and the JSON. */
export function describeRule(r: OutlierRule): string {
  const spread =
    r.scaleKind === 'mad'
      ? 'MAD/0.6745'
      : r.scaleKind === 'mean-ad'
        ? '1.2533·mean|x − median| (MAD is 0)'
        : 'no spread (all values equal)';
  return `modified z-score (Iglewicz–Hoaglin): M = (logdet − median)/(${spread}); outlier when |M| > ${r.threshold}`;
}
