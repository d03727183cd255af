import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gmmFromRow, gmmLogDensity, sampleGmm, splitGmm, squarePlus } from '../../src/lib/farmer/gmm';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The spec's formula term by term in float64, with its own square_plus and logsumexp. */
function slowLogDensity(row: Float32Array, K: number, d: number, z: ArrayLike<number>): number {
  const sp = (r: number) => Math.max((r + Math.sqrt(r * r + 4)) / 2, 1e-6);
  const logits = Array.from(row.slice(0, K));
  const lmax = Math.max(...logits);
  const lse = lmax + Math.log(logits.reduce((s, l) => s + Math.exp(l - lmax), 0));
  const terms = logits.map((l, k) => {
    let t = l - lse;
    for (let j = 0; j < d; j++) {
      const mu = row[K + k * d + j];
      const sigma = sp(row[K + K * d + k * d + j]);
      t += -0.5 * ((z[j] - mu) / sigma) ** 2 - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI);
    }
    return t;
  });
  const m = Math.max(...terms);
  return m + Math.log(terms.reduce((s, t) => s + Math.exp(t - m), 0));
}

describe('GMM head', () => {
  it('log-density equals a slow reference loop', async () => {
    const [rows, K, d] = [5, 4, 3];
    const rng = new Rng(3);
    const out = rng.normals(rows * K * (1 + 2 * d), 1.5);
    const z = rng.normals(rows * d, 2);
    const got = await gmmLogDensity(
      splitGmm(tf.tensor2d(out, [rows, K * (1 + 2 * d)]), K, d),
      tf.tensor2d(z, [rows, d]),
    ).data();
    for (let r = 0; r < rows; r++)
      expect(got[r]).toBeCloseTo(slowLogDensity(out.subarray(r * K * (1 + 2 * d)), K, d, z.subarray(r * d)), 4);
  });

  it('square_plus is stable for large |r| and its gradient has no NaN', async () => {
    const r = tf.tensor1d([-1e4, -30, -1, 0, 1, 30, 1e4]);
    const v = await squarePlus(r).data();
    const exact = [-1e4, -30, -1, 0, 1, 30, 1e4].map((x) =>
      x < 0 ? 2 / (Math.sqrt(x * x + 4) - x) : (x + Math.sqrt(x * x + 4)) / 2,
    );
    v.forEach((x, i) => expect(x / exact[i]).toBeCloseTo(1, 5));
    const g = await tf
      .grad((x) => squarePlus(x).sum())(r)
      .data();
    // d/dr square_plus = (1 + r/√(r²+4))/2
    g.forEach((x, i) => {
      const rr = [-1e4, -30, -1, 0, 1, 30, 1e4][i];
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeCloseTo((1 + rr / Math.sqrt(rr * rr + 4)) / 2, 5);
    });
  });

  it('draws with temperature T and scale s have the closed-form moments', () => {
    const [K, d] = [3, 2];
    const row = new Float32Array(K * (1 + 2 * d));
    row.set([0.5, -0.3, 1.2], 0); // logits
    row.set([-2, 1, 0.5, -1, 3, 2], K); // means
    row.set([0.2, -0.5, 1, 0, -1, 0.7], K + K * d); // raw σ
    const g = gmmFromRow(row, 0, K, d);
    for (const [T, s] of [
      [1, 1],
      [1.3, 0.9],
      [0.5, 0.3],
    ]) {
      const w = Array.from(g.logits).map((l) => Math.exp(l / T));
      const W = w.reduce((a, b) => a + b);
      const pi = w.map((x) => x / W);
      const n = 120_000,
        rng = new Rng(11),
        out = new Float32Array(d);
      const sum = [0, 0],
        sum2 = [0, 0];
      for (let i = 0; i < n; i++) {
        sampleGmm(g, T, s, rng, out);
        for (let j = 0; j < d; j++) {
          sum[j] += out[j];
          sum2[j] += out[j] ** 2;
        }
      }
      for (let j = 0; j < d; j++) {
        const mean = pi.reduce((a, p, k) => a + p * g.means[k * d + j], 0);
        const second = pi.reduce((a, p, k) => a + p * ((s * g.sigmas[k * d + j]) ** 2 + g.means[k * d + j] ** 2), 0);
        const variance = second - mean * mean;
        expect(Math.abs(sum[j] / n - mean)).toBeLessThan(5 * Math.sqrt(variance / n));
        expect(Math.abs(sum2[j] / n - (sum[j] / n) ** 2 - variance) / variance).toBeLessThan(0.02);
      }
    }
  });
});
