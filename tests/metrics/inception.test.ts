import { describe, expect, it } from 'vitest';
import { inceptionScore } from '../../src/lib/metrics/inception';

const oneHot = (n: number, c: number, cls: (i: number) => number) =>
  Float32Array.from({ length: n * c }, (_, k) => (cls(Math.floor(k / c)) === k % c ? 1 : 0));

describe('Inception Score', () => {
  it('is 1 for uniform predictions', () => {
    const r = inceptionScore(new Float32Array(50 * 10).fill(0.1), 50, 10);
    expect(r.mean).toBeCloseTo(1, 6);
  });

  it('is C for confident predictions spread evenly over C classes', () => {
    expect(
      inceptionScore(
        oneHot(100, 10, (i) => i % 10),
        100,
        10,
      ).mean,
    ).toBeCloseTo(10, 10);
    expect(
      inceptionScore(
        oneHot(30, 10, (i) => i % 3),
        30,
        10,
      ).mean,
    ).toBeCloseTo(3, 10);
  });

  it('is 1 when every image is confidently the same class', () => {
    expect(
      inceptionScore(
        oneHot(20, 5, () => 2),
        20,
        5,
      ).mean,
    ).toBeCloseTo(1, 12);
  });

  it('matches the hand-computed KL for a mixed case', () => {
    // half the images [1, 0], half [½, ½]: p(y) = [¾, ¼]
    const probs = Float32Array.from([1, 0, 0.5, 0.5, 1, 0, 0.5, 0.5]);
    const kl1 = Math.log(1 / 0.75),
      kl2 = 0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(0.5 / 0.25);
    expect(inceptionScore(probs, 4, 2).mean).toBeCloseTo(Math.exp((kl1 + kl2) / 2), 7);
  });

  it('averages over splits with their standard deviation', () => {
    // split 1: 4 classes evenly (score 4); split 2: all class 0 (score 1)
    const probs = oneHot(8, 4, (i) => (i < 4 ? i : 0));
    const r = inceptionScore(probs, 8, 4, { splits: 2 });
    expect(r.scores.map((s) => +s.toFixed(10))).toEqual([4, 1]);
    expect(r.mean).toBeCloseTo(2.5, 10);
    expect(r.std).toBeCloseTo(1.5, 10);
  });

  it('refuses rows that are not probabilities', () => {
    expect(() => inceptionScore(Float32Array.from([0.5, 0.6]), 1, 2)).toThrow(/row 0 sums to 1.1/);
    expect(() => inceptionScore(Float32Array.from([1.5, -0.5]), 1, 2)).toThrow(/negative value in row 0/);
    expect(() => inceptionScore(Float32Array.from([NaN, 1]), 1, 2)).toThrow(/NaN at row 0/);
    expect(() => inceptionScore(Float32Array.from([1, 0]), 1, 2, { splits: 2 })).toThrow(/splits must be/);
  });
});
