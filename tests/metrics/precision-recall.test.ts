import { describe, expect, it } from 'vitest';
import { precisionRecall } from '../../src/lib/metrics/precision-recall';
import { Rng } from '../../src/lib/util/random';

/** Brute-force reference: explicit differences in float64, full sorts. */
function slowPrecisionRecall(real: Float32Array, fake: Float32Array, d: number, k: number) {
  const rows = (x: Float32Array) =>
    Array.from({ length: x.length / d }, (_, i) => Array.from(x.subarray(i * d, (i + 1) * d)));
  const dist2 = (a: number[], b: number[]) => a.reduce((s, v, j) => s + (v - b[j]) ** 2, 0);
  const radii = (set: number[][]) =>
    set.map(
      (p, i) =>
        set
          .filter((_, j) => j !== i)
          .map((q) => dist2(p, q))
          .sort((a, b) => a - b)[k - 1],
    );
  const within = (queries: number[][], set: number[][], r: number[]) =>
    queries.filter((q) => set.some((p, j) => dist2(q, p) <= r[j])).length / queries.length;
  const R = rows(real),
    F = rows(fake);
  return { precision: within(F, R, radii(R)), recall: within(R, F, radii(F)) };
}

const gaussian = (n: number, d: number, rng: Rng, shift: number, scale = 1) =>
  Float32Array.from({ length: n * d }, () => shift + scale * rng.normal());

describe('precision and recall (k-NN manifolds)', () => {
  it('is 1 / 1 for identical sets', async () => {
    const x = gaussian(200, 8, new Rng(1), 0);
    expect(await precisionRecall(x, 200, x, 200, 8)).toEqual({ precision: 1, recall: 1 });
  });

  it('is 0 / 0 for disjoint, far-apart sets', async () => {
    const rng = new Rng(2);
    expect(await precisionRecall(gaussian(150, 8, rng, 0), 150, gaussian(120, 8, rng, 100), 120, 8)).toEqual({
      precision: 0,
      recall: 0,
    });
  });

  it('counts half the generated points in when half are copies and half far away', async () => {
    const rng = new Rng(3),
      d = 6,
      real = gaussian(100, d, rng, 0);
    const fake = new Float32Array(100 * d);
    fake.set(real.subarray(0, 50 * d));
    fake.set(gaussian(50, d, rng, 50), 50 * d);
    expect((await precisionRecall(real, 100, fake, 100, d)).precision).toBe(0.5);
  });

  it('agrees with a brute-force reference, for several k and block sizes', async () => {
    const rng = new Rng(4),
      d = 5;
    const real = gaussian(180, d, rng, 0),
      fake = gaussian(140, d, rng, 0.7, 0.6); // narrower: high precision, lower recall
    for (const [k, blockRows] of [
      [3, 1024],
      [3, 7],
      [1, 50],
      [5, 33],
    ]) {
      const got = await precisionRecall(real, 180, fake, 140, d, { k, blockRows });
      const want = slowPrecisionRecall(real, fake, d, k);
      expect(got).toEqual(want);
    }
    const { precision, recall } = slowPrecisionRecall(real, fake, d, 3);
    expect(precision).toBeGreaterThan(recall);
  });

  it('refuses bad input', async () => {
    await expect(precisionRecall(new Float32Array(6), 3, new Float32Array(8), 4, 2)).rejects.toThrow(
      /needs more than 3 points per set/,
    );
    await expect(precisionRecall(new Float32Array(10), 5, new Float32Array(9), 5, 2)).rejects.toThrow(
      /9 values do not fill \[5, 2\]/,
    );
  });
});
