// Spearman's rank correlation: the Pearson correlation of the ranks, tied values sharing the
// average of the ranks they span (so it stays exact with ties).

/** 1-based ranks; ties get the average of the ranks they occupy. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    const r = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let k = start; k < end; k++) ranks[order[k]] = r;
    start = end;
  }
  return ranks;
}

/** Pearson's r in float64; NaN when either side has no spread or fewer than 2 pairs. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (y.length !== n) throw new Error(`pearson: ${n} x values but ${y.length} y values`);
  if (n < 2) return NaN;
  let mx = 0,
    my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx,
      dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

export interface Correlation {
  /** Spearman's ρ in [−1, 1]; NaN when undefined */
  rho: number;
  /** pairs used (both values finite) */
  n: number;
  /** two-sided permutation p-value; NaN when not tested or ρ is undefined */
  p: number;
}

/**
 * Spearman's ρ over the pairs whose values are both finite; with `test`, also a permutation
 * p-value from `test.permutations` shuffles drawn with `test.uniform` (a seeded U[0, 1)).
 */
export function spearman(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  test?: { permutations: number; uniform: () => number },
): Correlation {
  if (y.length !== x.length) throw new Error(`spearman: ${x.length} x values but ${y.length} y values`);
  const xs: number[] = [],
    ys: number[] = [];
  for (let i = 0; i < x.length; i++)
    if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      xs.push(x[i]);
      ys.push(y[i]);
    }
  const rx = averageRanks(xs),
    ry = averageRanks(ys);
  const rho = pearson(rx, ry);
  const p = test ? permutationPValue(rx, ry, rho, test.permutations, test.uniform) : NaN;
  return { rho, n: xs.length, p };
}

/**
 * Two-sided permutation p-value of a Pearson correlation r0 between two rank vectors: the share
 * of `permutations` seeded shuffles of `ry` whose |r| reaches |r0|, as (count + 1)/(permutations + 1).
 */
export function permutationPValue(
  rx: ArrayLike<number>,
  ry: ArrayLike<number>,
  r0: number,
  permutations: number,
  uniform: () => number,
): number {
  if (!Number.isFinite(r0)) return NaN;
  const y = Float64Array.from(ry);
  let count = 0;
  for (let k = 0; k < permutations; k++) {
    for (let i = y.length - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      const t = y[i];
      y[i] = y[j];
      y[j] = t;
    }
    if (Math.abs(pearson(rx, y)) >= Math.abs(r0) - 1e-12) count++;
  }
  return (count + 1) / (permutations + 1);
}
