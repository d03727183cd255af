import { describe, expect, it } from 'vitest';
import { histogramBaseline } from '../../src/lib/metrics/histogram-baseline';
import { Rng } from '../../src/lib/util/random';

describe('histogramBaseline', () => {
  it('matches the closed form when every fitted pixel has one value', () => {
    const nFit = 10,
      dims = 6;
    const fit = new Uint8Array(nFit * dims).fill(7);
    const seen = histogramBaseline(fit, nFit, new Uint8Array(dims).fill(7), 1, dims);
    const unseen = histogramBaseline(fit, nFit, new Uint8Array(dims).fill(8), 1, dims);
    expect(seen.perPosition).toBeCloseTo(-Math.log2((nFit + 0.5) / (nFit + 128)), 12);
    expect(seen.shared).toBeCloseTo(-Math.log2((nFit * dims + 0.5) / (nFit * dims + 128)), 12);
    expect(unseen.perPosition).toBeCloseTo(-Math.log2(0.5 / (nFit + 128)), 12);
  });

  it('equals a slow count-per-pixel loop on random images', () => {
    const rng = new Rng(2);
    const nFit = 40,
      nEval = 9,
      dims = 5;
    const fit = Uint8Array.from({ length: nFit * dims }, () => Math.floor(rng.uniform() * 4) * 60);
    const ev = Uint8Array.from({ length: nEval * dims }, () => Math.floor(rng.uniform() * 5) * 60);
    let bits = 0;
    for (let i = 0; i < nEval; i++)
      for (let j = 0; j < dims; j++) {
        let count = 0;
        for (let f = 0; f < nFit; f++) if (fit[f * dims + j] === ev[i * dims + j]) count++;
        bits -= Math.log2((count + 0.5) / (nFit + 128));
      }
    const b = histogramBaseline(fit, nFit, ev, nEval, dims);
    expect(b.perPosition).toBeCloseTo(bits / (nEval * dims), 10);
    expect(b.shared).toBeGreaterThan(0);
    expect(b).toMatchObject({ fitted: nFit, evaluated: nEval });
  });

  it('refuses arrays shorter than the image counts say', () => {
    expect(() => histogramBaseline(new Uint8Array(5), 2, new Uint8Array(3), 1, 3)).toThrow(/fewer pixels/);
  });
});
