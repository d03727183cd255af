import { describe, expect, it } from 'vitest';
import { naiveCfg, resamplingCfg, type ResamplingParams } from '../../src/lib/farmer/guidance';
import type { Gmm } from '../../src/lib/farmer/gmm';
import { Rng } from '../../src/lib/util/random';

function gmm1d(weights: number[], means: number[], sigmas: number[]): Gmm {
  return {
    K: weights.length,
    d: 1,
    logits: Float32Array.from(weights.map(Math.log)),
    means: Float32Array.from(means),
    sigmas: Float32Array.from(sigmas),
  };
}

function density(g: Gmm, x: number): number {
  let p = 0;
  for (let k = 0; k < g.K; k++)
    p +=
      (Math.exp(g.logits[k]) * Math.exp(-0.5 * ((x - g.means[k]) / g.sigmas[k]) ** 2)) /
      (g.sigmas[k] * Math.sqrt(2 * Math.PI));
  return p;
}

/** Mean, variance and CDF of p_c^{w+1}/p_u^w by quadrature on a fine grid (independent of the sampler). */
function targetOnGrid(c: Gmm, u: Gmm, w: number) {
  const xs: number[] = [],
    ps: number[] = [];
  for (let x = -12; x <= 12; x += 0.002) {
    xs.push(x);
    ps.push(density(c, x) ** (w + 1) / density(u, x) ** w);
  }
  const Z = ps.reduce((a, b) => a + b);
  const mean = xs.reduce((a, x, i) => a + x * ps[i], 0) / Z;
  const variance = xs.reduce((a, x, i) => a + (x - mean) ** 2 * ps[i], 0) / Z;
  const cumulative: number[] = [];
  ps.reduce((acc, p, i) => (cumulative[i] = acc + p), 0);
  const cdf = (t: number) => {
    const i = Math.min(xs.length - 1, Math.max(0, Math.floor((t + 12) / 0.002)));
    return cumulative[i] / Z;
  };
  return { mean, variance, cdf };
}

function ksDistance(draws: number[], cdf: (t: number) => number): number {
  const sorted = [...draws].sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0; i < sorted.length; i += Math.max(1, Math.floor(sorted.length / 400)))
    worst = Math.max(worst, Math.abs((i + 1) / sorted.length - cdf(sorted[i])));
  return worst;
}

const exactPool: ResamplingParams = { T_pi: 1, T_sigma: 1, s_c: 128, s_u: 128, T_pi_v: 1, T_sigma_v: 1, T_s: 1 };

describe('resampling CFG (Algorithm 1)', () => {
  const cond = gmm1d([0.6, 0.4], [-1, 2], [0.7, 0.5]);
  const uncond = gmm1d([0.3, 0.3, 0.4], [-1, 2, 0.5], [1, 1, 2]);

  for (const w of [0, 1, 2.5]) {
    it(`draws approach p_c^{w+1}/p_u^w for w = ${w}`, () => {
      const t = targetOnGrid(cond, uncond, w);
      const rng = new Rng(5),
        out = new Float32Array(1),
        draws: number[] = [];
      for (let i = 0; i < 6000; i++) {
        resamplingCfg(cond, uncond, w, exactPool, rng, out);
        draws.push(out[0]);
      }
      const mean = draws.reduce((a, b) => a + b) / draws.length;
      const variance = draws.reduce((a, x) => a + (x - mean) ** 2, 0) / draws.length;
      expect(Math.abs(mean - t.mean)).toBeLessThan(0.08);
      expect(Math.abs(variance / t.variance - 1)).toBeLessThan(0.1);
      expect(ksDistance(draws, t.cdf)).toBeLessThan(0.03);
    });
  }

  it('w = 0 gives p_c', () => {
    const t = targetOnGrid(cond, cond, 0);
    const rng = new Rng(6),
      out = new Float32Array(1),
      draws: number[] = [];
    for (let i = 0; i < 6000; i++) {
      resamplingCfg(cond, uncond, 0, exactPool, rng, out);
      draws.push(out[0]);
    }
    expect(ksDistance(draws, t.cdf)).toBeLessThan(0.03);
  });

  it('the redundant group draws N vectors from one pool', () => {
    const rng = new Rng(7),
      out = new Float32Array(10);
    resamplingCfg(cond, uncond, 2, { ...exactPool, s_c: 5, s_u: 5 }, rng, out, 0, 10, 10);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(new Set(out).size).toBeGreaterThan(1);
  });
});

describe('naive CFG (rejection)', () => {
  it('matches the Gaussian closed form of N_c^{1+w}/N_u^w', () => {
    const [muC, sC, muU, sU, w] = [1, 0.8, -0.5, 1.2, 2];
    const precision = (1 + w) / sC ** 2 - w / sU ** 2;
    const mean = (((1 + w) * muC) / sC ** 2 - (w * muU) / sU ** 2) / precision;
    const c = gmm1d([1], [muC], [sC]),
      u = gmm1d([1], [muU], [sU]);
    const rng = new Rng(8),
      out = new Float32Array(1),
      n = 20000;
    let s = 0,
      s2 = 0,
      fallbacks = 0;
    for (let i = 0; i < n; i++) {
      fallbacks += naiveCfg(c, u, w, rng, out);
      s += out[0];
      s2 += out[0] ** 2;
    }
    expect(fallbacks).toBe(0);
    expect(Math.abs(s / n - mean)).toBeLessThan(5 / Math.sqrt(precision * n));
    expect(Math.abs((s2 / n - (s / n) ** 2) * precision - 1)).toBeLessThan(0.05);
  });

  it('falls back to the conditional draw when the target is not normalisable', () => {
    const c = gmm1d([1], [0], [1]),
      u = gmm1d([1], [0], [0.1]);
    const out = new Float32Array(1);
    expect(naiveCfg(c, u, 3, new Rng(1), out)).toBe(1);
    expect(Number.isFinite(out[0])).toBe(true);
  });
});
