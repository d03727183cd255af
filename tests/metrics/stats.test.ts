// The one Pearson correlation (metrics/rank.ts) and the one median (metrics/robust.ts) against
// independent definitions, and their behaviour on degenerate input.
import { describe, expect, it } from 'vitest';
import { pearson } from '../../src/lib/metrics/rank';
import { median } from '../../src/lib/metrics/robust';
import { Rng } from '../../src/lib/util/random';

/** r = cov(x, y)/(sd(x)·sd(y)) with the population moments, each computed in its own pass. */
function slowPearson(x: number[], y: number[]): number {
  const n = x.length;
  const mean = (v: number[]) => v.reduce((s, a) => s + a, 0) / n;
  const [mx, my] = [mean(x), mean(y)];
  const cov = x.reduce((s, _, i) => s + (x[i] - mx) * (y[i] - my), 0) / n;
  const sd = (v: number[], m: number) => Math.sqrt(v.reduce((s, a) => s + (a - m) ** 2, 0) / n);
  return cov / (sd(x, mx) * sd(y, my));
}

describe('pearson', () => {
  it('equals the two-pass formula on random data', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const n = 2 + rng.int(50);
      const x = Array.from({ length: n }, () => rng.normal());
      const y = x.map((v) => (trial % 2 ? -0.7 : 0.3) * v + rng.normal());
      expect(pearson(x, y)).toBeCloseTo(slowPearson(x, y), 12);
    }
  });

  it('is NaN when it is undefined: a constant side, or fewer than 2 pairs', () => {
    expect(pearson([2, 2, 2], [1, 2, 3])).toBeNaN();
    expect(pearson([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(pearson([1], [1])).toBeNaN();
    expect(pearson([], [])).toBeNaN();
  });

  it('refuses sides of different lengths', () => {
    expect(() => pearson([1, 2], [1, 2, 3])).toThrow(/2 x values but 3 y values/);
  });
});

describe('median', () => {
  /** By counting: the value with (n−1)/2 smaller ones, or the mean of those with n/2 − 1 and n/2. */
  function countingMedian(v: number[]): number {
    const rank = (x: number) => v.filter((u) => u < x).length;
    const at = (r: number) => v.find((x) => rank(x) === r)!;
    return v.length % 2 ? at((v.length - 1) / 2) : (at(v.length / 2 - 1) + at(v.length / 2)) / 2;
  }

  it('equals the counting definition on distinct random values, and leaves its input alone', () => {
    const rng = new Rng(8);
    for (let n = 1; n < 30; n++) {
      const v = Array.from({ length: n }, () => rng.normal() * 100);
      const copy = [...v];
      expect(median(v)).toBe(countingMedian(v));
      expect(v).toEqual(copy);
    }
  });

  it('sorts numerically (not as text), takes typed arrays, and is NaN for no values', () => {
    expect(median([10, 9, 100])).toBe(10);
    expect(median(Float32Array.of(3, 1, 2, 4))).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
