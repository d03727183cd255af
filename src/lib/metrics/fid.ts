// Fréchet distance of two feature sets (FID when the features come from the feature network):
//   FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr √(Σ₁^½ Σ₂ Σ₁^½)
// with sample covariances normalised by n − 1 (np.cov). tr √(Σ₁^½ Σ₂ Σ₁^½) = Σ √λ over its
// eigenvalues, the same as tr sqrtm(Σ₁Σ₂) of the usual scipy code; both square roots come from
// symmetric eigendecompositions (ml-matrix), tiny negative eigenvalues clamped to 0.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Rng } from '../util/random';
import { checkMatrix } from './check';

export interface GaussianStats {
  /** number of feature vectors */
  n: number;
  dims: number;
  /** [dims] */
  mean: Float64Array;
  /** [dims, dims] row-major, normalised by n − 1 */
  cov: Float64Array;
}

/** Mean and covariance of n feature vectors [n, dims] (row-major), accumulated in float64. */
export function featureStats(features: ArrayLike<number>, n: number, dims: number, what = 'features'): GaussianStats {
  checkMatrix(features, n, dims, what, 2);
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) mean[j] += features[i * dims + j];
  for (let j = 0; j < dims; j++) mean[j] /= n;
  const cov = new Float64Array(dims * dims);
  const row = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dims; j++) row[j] = features[i * dims + j] - mean[j];
    for (let a = 0; a < dims; a++) {
      const x = row[a];
      if (x === 0) continue;
      const o = a * dims;
      for (let b = a; b < dims; b++) cov[o + b] += x * row[b];
    }
  }
  for (let a = 0; a < dims; a++)
    for (let b = a; b < dims; b++) {
      const v = cov[a * dims + b] / (n - 1);
      cov[a * dims + b] = v;
      cov[b * dims + a] = v;
    }
  return { n, dims, mean, cov };
}

function toMatrix(values: Float64Array, dims: number): Matrix {
  const m = new Matrix(dims, dims);
  for (let i = 0; i < dims; i++) for (let j = 0; j < dims; j++) m.set(i, j, values[i * dims + j]);
  return m;
}

function symmetrize(m: Matrix): Matrix {
  return m.clone().add(m.transpose()).mul(0.5);
}

/** Eigenvalues (clamped at 0) and eigenvectors of a symmetric PSD matrix. */
function symmetricEig(m: Matrix): { values: number[]; vectors: Matrix } {
  const evd = new EigenvalueDecomposition(m.clone(), { assumeSymmetric: true });
  return { values: evd.realEigenvalues.map((v) => Math.max(v, 0)), vectors: evd.eigenvectorMatrix };
}

/** tr √(Σ₁^½ Σ₂ Σ₁^½) */
export function traceSqrtProduct(cov1: Float64Array, cov2: Float64Array, dims: number): number {
  const { values, vectors } = symmetricEig(toMatrix(cov1, dims));
  const root = vectors.mmul(Matrix.diag(values.map(Math.sqrt))).mmul(vectors.transpose()); // Σ₁^½
  const inner = symmetrize(root.mmul(toMatrix(cov2, dims)).mmul(root));
  return symmetricEig(inner).values.reduce((s, v) => s + Math.sqrt(v), 0);
}

/** The Fréchet distance of two Gaussians; rounding below 0 is returned as 0. */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dims !== b.dims) throw new Error(`feature dimensions differ: ${a.dims} vs ${b.dims}`);
  const d = a.dims;
  let meanTerm = 0,
    traces = 0;
  for (let j = 0; j < d; j++) {
    meanTerm += (a.mean[j] - b.mean[j]) ** 2;
    traces += a.cov[j * d + j] + b.cov[j * d + j];
  }
  return Math.max(0, meanTerm + traces - 2 * traceSqrtProduct(a.cov, b.cov, d));
}

/** FID of two feature arrays [nA, dims] and [nB, dims]. */
export function fid(a: ArrayLike<number>, nA: number, b: ArrayLike<number>, nB: number, dims: number): number {
  return frechetDistance(
    featureStats(a, nA, dims, 'first feature set'),
    featureStats(b, nB, dims, 'second feature set'),
  );
}

export interface FidTiming {
  n: number;
  dims: number;
  /** seconds for the statistics of both sets */
  stats_s: number;
  /** seconds for the distance (two eigendecompositions) */
  distance_s: number;
  total_s: number;
}

/** Times FID on two random feature sets [n, dims] (for `farmer bench`: "FID time for 10k × dims"). */
export function timeFid(n = 10000, dims = 128, seed = 0): FidTiming {
  const rng = new Rng(seed);
  const a = rng.normals(n * dims),
    b = rng.normals(n * dims, 1.1);
  const t0 = performance.now();
  const sa = featureStats(a, n, dims),
    sb = featureStats(b, n, dims);
  const t1 = performance.now();
  frechetDistance(sa, sb);
  const t2 = performance.now();
  return { n, dims, stats_s: (t1 - t0) / 1000, distance_s: (t2 - t1) / 1000, total_s: (t2 - t0) / 1000 };
}
