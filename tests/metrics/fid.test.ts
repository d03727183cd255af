import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureStats, fid, frechetDistance, timeFid } from '../../src/lib/metrics/fid';
import { Rng } from '../../src/lib/util/random';

/** Sylvester Hadamard entry H[i][j] = (−1)^popcount(i & j); its columns are orthogonal, columns ≥ 1 sum to 0. */
const hadamard = (i: number, j: number) => {
  let b = i & j,
    s = 1;
  while (b) {
    s = -s;
    b &= b - 1;
  }
  return s;
};

/** n rows (n a power of 2) with sample mean exactly μ and sample covariance exactly diag(s²·n/(n−1)). */
function exactSet(n: number, mu: number[], s: number[]): Float64Array {
  const d = mu.length,
    x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = mu[j] + s[j] * hadamard(i, j + 1);
  return x;
}

/** A random orthogonal d×d matrix (Gram–Schmidt of normals), float64. */
function orthogonal(d: number, rng: Rng): number[][] {
  const q: number[][] = [];
  while (q.length < d) {
    const v = Array.from({ length: d }, () => rng.normal());
    for (const u of q) {
      const dot = u.reduce((s, ui, k) => s + ui * v[k], 0);
      u.forEach((ui, k) => (v[k] -= dot * ui));
    }
    const norm = Math.hypot(...v);
    q.push(v.map((vk) => vk / norm));
  }
  return q;
}

function rotate(x: Float64Array, d: number, q: number[][]): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length / d; i++)
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += q[a][b] * x[i * d + b];
      out[i * d + a] = s;
    }
  return out;
}

/** Gaussian features with a random (non-diagonal) covariance: x = A·ε + m. */
function randomFeatures(n: number, d: number, rng: Rng, shift: number): Float32Array {
  const a = Array.from({ length: d * d }, () => rng.normal() / Math.sqrt(d));
  const out = new Float32Array(n * d),
    e = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) e[k] = rng.normal();
    for (let r = 0; r < d; r++) {
      let s = shift * Math.sin(r);
      for (let k = 0; k < d; k++) s += a[r * d + k] * e[k];
      out[i * d + r] = s;
    }
  }
  return out;
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('FID', () => {
  const muA = [0.5, -1, 2, 0, 0.25, 3, -0.75, 1],
    sA = [1, 2, 0.5, 1.5, 3, 0.25, 1, 2];
  const muB = [0, -1, 1.5, 0.5, 0.25, 2, -0.5, 1.5],
    sB = [2, 1, 0.5, 0.75, 1, 1, 3, 0.5];
  // Both covariances diagonal: FID = ‖μA − μB‖² + Σ (√a_j − √b_j)².
  const closedForm = muA.reduce((sum, m, j) => {
    const a = (sA[j] ** 2 * 64) / 63,
      b = (sB[j] ** 2 * 32) / 31;
    return sum + (m - muB[j]) ** 2 + (Math.sqrt(a) - Math.sqrt(b)) ** 2;
  }, 0);

  it('has the exact sample mean and covariance (np.cov, n − 1)', () => {
    const stats = featureStats(exactSet(64, muA, sA), 64, 8);
    stats.mean.forEach((m, j) => expect(m).toBeCloseTo(muA[j], 14));
    for (let a = 0; a < 8; a++)
      for (let b = 0; b < 8; b++) expect(stats.cov[a * 8 + b]).toBeCloseTo(a === b ? (sA[a] ** 2 * 64) / 63 : 0, 13);
  });

  it('matches the covariance of a slow float64 reference loop', () => {
    const d = 5,
      n = 40,
      x = randomFeatures(n, d, new Rng(4), 1);
    const stats = featureStats(x, n, d);
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) {
        let ma = 0,
          mb = 0;
        for (let i = 0; i < n; i++) [ma, mb] = [ma + x[i * d + a] / n, mb + x[i * d + b] / n];
        let c = 0;
        for (let i = 0; i < n; i++) c += (x[i * d + a] - ma) * (x[i * d + b] - mb);
        expect(relative(stats.cov[a * d + b], c / (n - 1))).toBeLessThan(1e-12);
      }
  });

  it('equals the closed form for diagonal covariances', () => {
    const value = fid(exactSet(64, muA, sA), 64, exactSet(32, muB, sB), 32, 8);
    expect(relative(value, closedForm)).toBeLessThan(1e-12);
  });

  it('equals the closed form for commuting, non-diagonal covariances (both sets rotated alike)', () => {
    const q = orthogonal(8, new Rng(11));
    const value = fid(rotate(exactSet(64, muA, sA), 8, q), 64, rotate(exactSet(32, muB, sB), 8, q), 32, 8);
    expect(relative(value, closedForm)).toBeLessThan(1e-10);
  });

  it('is symmetric and zero for identical sets', () => {
    const rng = new Rng(3),
      d = 16;
    const a = randomFeatures(300, d, rng, 0),
      b = randomFeatures(200, d, rng, 1);
    const ab = fid(a, 300, b, 200, d),
      ba = fid(b, 200, a, 300, d);
    expect(ab).toBeGreaterThan(1);
    expect(relative(ab, ba)).toBeLessThan(1e-9);
    expect(fid(a, 300, a, 300, d)).toBeLessThan(1e-9 * ab);
  });

  it('refuses bad input with a clear message', () => {
    expect(() => fid(new Float32Array(8), 1, new Float32Array(8), 1, 8)).toThrow(/needs at least 2 rows, got 1/);
    expect(() => fid(new Float32Array(4), 2, Float32Array.from([0, NaN, 0, 0]), 2, 2)).toThrow(
      /second feature set: NaN at row 0, column 1/,
    );
    expect(() => fid(new Float32Array(15), 2, new Float32Array(16), 2, 8)).toThrow(/15 values do not fill \[2, 8\]/);
    const s = featureStats(new Float32Array(8), 2, 4),
      t = featureStats(new Float32Array(6), 2, 3);
    expect(() => frechetDistance(s, t)).toThrow(/dimensions differ: 4 vs 3/);
  });

  it('times a run (the bench entry point)', () => {
    const t = timeFid(500, 16);
    expect(t.total_s).toBeGreaterThan(0);
    expect(t.total_s).toBeCloseTo(t.stats_s + t.distance_s, 9);
  });

  // The usual Python computation (np.cov + scipy.linalg.sqrtm of Σ1Σ2), when scipy is installed.
  const python = ['/usr/bin/python3', 'python3'].find(
    (p) => spawnSync(p, ['-c', 'import numpy, scipy.linalg'], { stdio: 'ignore' }).status === 0,
  );
  it.skipIf(!python)('agrees with numpy/scipy to 1e-6 relative', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fid-'));
    const rng = new Rng(21),
      d = 64,
      nA = 600,
      nB = 400;
    const a = randomFeatures(nA, d, rng, 0),
      b = randomFeatures(nB, d, rng, 0.5);
    writeFileSync(join(dir, 'a.f32'), a);
    writeFileSync(join(dir, 'b.f32'), b);
    const script = `
import numpy as np, scipy.linalg, sys
a = np.fromfile(sys.argv[1], dtype='<f4').reshape(${nA}, ${d}).astype(np.float64)
b = np.fromfile(sys.argv[2], dtype='<f4').reshape(${nB}, ${d}).astype(np.float64)
m1, m2 = a.mean(0), b.mean(0)
s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
c = scipy.linalg.sqrtm(s1 @ s2).real
print(repr(float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(c))))`;
    const r = spawnSync(python!, ['-c', script, join(dir, 'a.f32'), join(dir, 'b.f32')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const reference = Number(r.stdout.trim());
    expect(relative(fid(a, nA, b, nB, d), reference)).toBeLessThan(1e-6);
  });
});
