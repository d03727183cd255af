import { describe, expect, it } from 'vitest';
import {
  dequantizeGaussian,
  dequantizeUniform,
  gaussianSigma,
  toModelSpace,
  toPixels,
  trainingSigma,
} from '../../src/lib/data/dequantize';
import { Rng } from '../../src/lib/util/random';

const pixels = Uint8Array.from({ length: 256 * 200 }, (_, i) => i % 256);

describe('dequantization (docs/model.md, "Pixels and dequantization")', () => {
  it('uniform: x = (x_int + u)/128 − 1 stays in the pixel’s bin, u has mean ½', () => {
    const x = dequantizeUniform(pixels, new Rng(1));
    let sumU = 0,
      minU = Infinity,
      maxU = -Infinity;
    for (let i = 0; i < x.length; i++) {
      const u = (x[i] + 1) * 128 - pixels[i];
      [minU, maxU, sumU] = [Math.min(minU, u), Math.max(maxU, u), sumU + u];
    }
    expect(minU).toBeGreaterThanOrEqual(-1e-4);
    expect(maxU).toBeLessThan(1 + 1e-4);
    expect(Math.abs(sumU / x.length - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / x.length));
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...x)).toBeLessThan(1);
  });

  it('gaussian σ(t) anneals with a cosine from σ_max to σ_min', () => {
    expect(gaussianSigma(0, 0.005, 0.1)).toBeCloseTo(0.1, 15);
    expect(gaussianSigma(1, 0.005, 0.1)).toBeCloseTo(0.005, 15);
    expect(gaussianSigma(0.5, 0.005, 0.1)).toBeCloseTo(0.0525, 15);
    expect(gaussianSigma(0.25, 0, 1)).toBeCloseTo((1 + Math.SQRT1_2) / 2, 15);
    expect(gaussianSigma(2, 0.005, 0.1)).toBeCloseTo(0.005, 15); // clamped
  });

  it('the `fixed` schedule trains at σ_max throughout; `cosine` follows σ(t)', () => {
    const fixed = { kind: 'gaussian', sigma_min: 0.005, sigma_max: 0.1, schedule: 'fixed' } as const;
    const cosine = { ...fixed, schedule: 'cosine' } as const;
    for (const t of [0, 0.3, 1]) {
      expect(trainingSigma(fixed, t)).toBe(0.1);
      expect(trainingSigma(cosine, t)).toBe(gaussianSigma(t, 0.005, 0.1));
    }
  });

  it('gaussian: x = x_int/127.5 − 1 + σε with the right noise scale', () => {
    const sigma = 0.05,
      x = dequantizeGaussian(pixels, sigma, new Rng(2));
    let s = 0,
      s2 = 0;
    for (let i = 0; i < x.length; i++) {
      const e = x[i] - (pixels[i] / 127.5 - 1);
      s += e;
      s2 += e * e;
    }
    const n = x.length;
    expect(Math.abs(s / n)).toBeLessThan((4 * sigma) / Math.sqrt(n));
    expect(Math.abs(Math.sqrt(s2 / n) / sigma - 1)).toBeLessThan(0.01);
  });

  it('maps pixels to [-1, 1] and back exactly', () => {
    const x = toModelSpace(pixels);
    expect(x[0]).toBe(-1);
    expect(x[255]).toBe(1);
    expect(toPixels(x)).toEqual(pixels);
    expect([...toPixels([-3, 2, NaN, 0])]).toEqual([0, 255, 0, 128]);
  });

  it('is reproducible from the seed, on arrays and tensors alike', () => {
    expect(dequantizeUniform(pixels, new Rng(5))).toEqual(dequantizeUniform(pixels, new Rng(5)));
    expect(dequantizeUniform(pixels, new Rng(5))).not.toEqual(dequantizeUniform(pixels, new Rng(6)));
  });
});
