// Improved precision and recall (Kynkäänniemi et al. 2019). Each set's manifold is the union of
// balls around its points, of radius the distance to the point's k-th nearest other point.
//   precision = fraction of generated points inside the real manifold
//   recall    = fraction of real points inside the generated manifold
// Squared distances ‖a‖² + ‖b‖² − 2a·b, the dot products by tfjs matmul in blocks of
// `blockRows` rows against a whole set (memory blockRows × n floats), scanned in JavaScript.
import * as tf from '@tensorflow/tfjs';
import { checkMatrix, MetricInputError } from './check';

export interface PrecisionRecall {
  precision: number;
  recall: number;
}

interface Points {
  n: number;
  dims: number;
  values: Float32Array;
  /** squared norms, [n] */
  norms: Float64Array;
}

function points(values: ArrayLike<number>, n: number, dims: number, what: string): Points {
  checkMatrix(values, n, dims, what);
  const v = values instanceof Float32Array ? values : Float32Array.from(values);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) norms[i] += v[i * dims + j] ** 2;
  return { n, dims, values: v, norms };
}

/**
 * Calls `visit(i, d2)` for each row i of `rows`, with d2[j] the squared distance to point j of
 * `cols` (d2 is reused between calls). Runs blockRows rows per matmul.
 */
async function forEachDistanceRow(
  rows: Points,
  cols: Points,
  blockRows: number,
  visit: (i: number, d2: Float32Array) => void,
): Promise<void> {
  const colsT = tf.tidy(() => tf.transpose(tf.tensor2d(cols.values, [cols.n, cols.dims]))); // [dims, n]
  const d2 = new Float32Array(cols.n);
  try {
    for (let i0 = 0; i0 < rows.n; i0 += blockRows) {
      const b = Math.min(blockRows, rows.n - i0);
      const dots = tf.tidy(() =>
        tf.matMul(tf.tensor2d(rows.values.subarray(i0 * rows.dims, (i0 + b) * rows.dims), [b, rows.dims]), colsT),
      );
      const block = (await dots.data()) as Float32Array;
      dots.dispose();
      for (let r = 0; r < b; r++) {
        const ni = rows.norms[i0 + r],
          o = r * cols.n;
        for (let j = 0; j < cols.n; j++) d2[j] = Math.max(0, ni + cols.norms[j] - 2 * block[o + j]);
        visit(i0 + r, d2);
      }
    }
  } finally {
    colsT.dispose();
  }
}

/** Squared distance of each point to its k-th nearest other point of the same set. */
async function kthNeighbourRadii(set: Points, k: number, blockRows: number): Promise<Float64Array> {
  const radii = new Float64Array(set.n);
  const best = new Float64Array(k);
  await forEachDistanceRow(set, set, blockRows, (i, d2) => {
    best.fill(Infinity);
    for (let j = 0; j < set.n; j++) {
      const d = d2[j];
      if (j === i || d >= best[k - 1]) continue;
      let at = k - 1;
      while (at > 0 && best[at - 1] > d) {
        best[at] = best[at - 1];
        at--;
      }
      best[at] = d;
    }
    radii[i] = best[k - 1];
  });
  return radii;
}

/** Fraction of `queries` within the manifold of `set` (inside some ball ‖q − x‖² ≤ radius²(x)). */
async function coverage(queries: Points, set: Points, radii: Float64Array, blockRows: number): Promise<number> {
  let inside = 0;
  await forEachDistanceRow(queries, set, blockRows, (_, d2) => {
    for (let j = 0; j < set.n; j++)
      if (d2[j] <= radii[j]) {
        inside++;
        return;
      }
  });
  return inside / queries.n;
}

/** Precision and recall of generated features [nFake, dims] against real ones [nReal, dims]. */
export async function precisionRecall(
  real: ArrayLike<number>,
  nReal: number,
  fake: ArrayLike<number>,
  nFake: number,
  dims: number,
  { k = 3, blockRows = 1024 } = {},
): Promise<PrecisionRecall> {
  if (!Number.isInteger(k) || k < 1) throw new MetricInputError(`k must be a positive integer, got ${k}`);
  if (nReal <= k || nFake <= k)
    throw new MetricInputError(
      `precision/recall with k = ${k} needs more than ${k} points per set (got ${nReal} real, ${nFake} generated)`,
    );
  const r = points(real, nReal, dims, 'real features');
  const f = points(fake, nFake, dims, 'generated features');
  const realRadii = await kthNeighbourRadii(r, k, blockRows);
  const fakeRadii = await kthNeighbourRadii(f, k, blockRows);
  return { precision: await coverage(f, r, realRadii, blockRows), recall: await coverage(r, f, fakeRadii, blockRows) };
}
