import { describe, expect, it } from 'vitest';
import { Rng } from '../src/lib/util/random';

describe('Rng', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const a = new Rng(7),
      b = new Rng(7),
      c = new Rng(8);
    const xa = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xa);
  });

  it('draws normals with mean 0 and variance 1 (closed form, 4σ bounds)', () => {
    const r = new Rng(1),
      n = 200_000;
    let s = 0,
      s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    const mean = s / n,
      variance = s2 / n - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });

  it('categorical follows the softmax of its log-weights', () => {
    const r = new Rng(3),
      lw = [0, Math.log(2), Math.log(5)],
      n = 80_000,
      counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[r.categorical(lw)]++;
    const p = [1 / 8, 2 / 8, 5 / 8];
    counts.forEach((c, i) => expect(Math.abs(c / n - p[i])).toBeLessThan(4 * Math.sqrt((p[i] * (1 - p[i])) / n)));
  });
});
