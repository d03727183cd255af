// Checks of the float64 reference itself (before it is trusted to judge the engine).
import { describe, expect, it } from 'vitest';
import {
  afBlockForward,
  afBlockInverse,
  blockPerm,
  erf,
  gelu,
  gmmLogProb,
  patchify,
  refDims,
  refForwardImage,
  squarePlus,
  type RefConfig,
} from './ref';
import { RefRng, randomImages, randomRefParams } from './util';

function cfgOf(
  o: Partial<{
    blocks: number;
    softClip: number;
    classCond: boolean;
    size: number;
    channels: number;
    patch: number;
  }> = {},
): RefConfig {
  return {
    image: { height: o.size ?? 4, width: o.size ?? 4, channels: o.channels ?? 1 },
    patch_size: o.patch ?? 2,
    num_classes: 3,
    af: {
      blocks: o.blocks ?? 2,
      layers_per_block: 1,
      width: 16,
      head_dim: 8,
      mlp_ratio: 2,
      class_conditional: o.classCond ?? false,
      soft_clip: o.softClip ?? 0,
    },
    prior: { kind: 'gaussian' },
    dequantization: { kind: 'uniform' },
    label_dropout: 0.1,
  };
}

describe('reference scalar functions', () => {
  it('erf matches tabulated values to 1e-13', () => {
    const table: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [-1.5, -0.9661051464753108],
      [2, 0.9953222650189527],
      [2.9, 0.9999589021219005],
      [3.5, 0.9999992569016276],
      [-4, -0.9999999845827421],
      [6, 1],
    ];
    for (const [x, v] of table) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-13);
    expect(Math.abs(gelu(1) - 0.8413447460685429)).toBeLessThan(1e-14);
    expect(Math.abs(gelu(-1) - -0.15865525393145707)).toBeLessThan(1e-14);
  });

  it('square_plus: sp(r) − sp(−r) = r, sp(r)·sp(−r) = 1, no cancellation for very negative r', () => {
    for (const r of [-1e6, -1e4, -37, -1, 0, 0.3, 5, 1e4]) {
      expect(Math.abs(squarePlus(r) - squarePlus(-r) - r)).toBeLessThan(1e-9 * Math.max(1, Math.abs(r)));
      expect(Math.abs(squarePlus(r) * squarePlus(-r) - 1)).toBeLessThan(1e-12);
    }
    expect(squarePlus(-1e8)).toBeCloseTo(1e-8, 20);
  });

  it('GMM: K = 1 is a diagonal Gaussian, duplicate components change nothing, density integrates to 1', () => {
    const dg = 2;
    const mu = [0.3, -0.7];
    const raw = [0.2, -1.1];
    const z = [0.1, 0.4];
    let direct = 0;
    for (let j = 0; j < dg; j++) {
      const s = squarePlus(raw[j]);
      direct += -0.5 * ((z[j] - mu[j]) / s) ** 2 - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
    }
    expect(gmmLogProb([1.7, ...mu, ...raw], 1, dg, z)).toBeCloseTo(direct, 12);
    // two identical components: weights 1/2 each → same density
    expect(gmmLogProb([0.4, 0.4, ...mu, ...mu, ...raw, ...raw], 2, dg, z)).toBeCloseTo(direct, 12);
    // a 3-component 2-D mixture integrates to 1 (midpoint rule on a wide grid)
    const head = [0.2, -1, 1.3, /* means */ -1, 0.5, 0.8, -0.2, 2, 1, /* raw */ 0.1, -0.5, 0.7, 0.2, -1.2, 0];
    let mass = 0;
    const h = 0.02;
    for (let a = -8; a < 8; a += h)
      for (let b = -8; b < 8; b += h) mass += Math.exp(gmmLogProb(head, 3, 2, [a + h / 2, b + h / 2])) * h * h;
    expect(Math.abs(mass - 1)).toBeLessThan(1e-6);
  });
});

describe('reference patchify and AF', () => {
  it('patchify: raster tokens, channel-major inside a token', () => {
    const cfg = cfgOf({ size: 4, channels: 3 });
    const x = new Float64Array(4 * 4 * 3);
    for (let h = 0; h < 4; h++)
      for (let w = 0; w < 4; w++) for (let c = 0; c < 3; c++) x[(h * 4 + w) * 3 + c] = 100 * h + 10 * w + c;
    const [t] = patchify(cfg, x, 1);
    expect(t.length).toBe(4);
    expect(t[0].length).toBe(12);
    // token 1 is the top-right patch: rows 0–1, columns 2–3
    for (let c = 0; c < 3; c++)
      for (let r = 0; r < 2; r++)
        for (let s = 0; s < 2; s++) expect(t[1][c * 4 + r * 2 + s]).toBe(100 * r + 10 * (2 + s) + c);
    // token 2 is the bottom-left patch
    expect(t[2][1 * 4 + 1 * 2 + 0]).toBe(100 * 3 + 10 * 0 + 1);
  });

  it('block permutation: identity for even k, flip for odd k', () => {
    expect(blockPerm(0, 4)).toEqual([0, 1, 2, 3]);
    expect(blockPerm(1, 4)).toEqual([3, 2, 1, 0]);
    expect(blockPerm(2, 3)).toEqual([0, 1, 2]);
  });

  const cfg = cfgOf({ blocks: 2, softClip: 0.7, classCond: true });
  const params = randomRefParams(cfg, 11, { projOut: 0.8, projOutBias: 0.3 });
  const x = patchify(cfg, randomImages(cfg, 1, 12), 1)[0];

  it('each block is exactly invertible (float64 round trip) and leaves the first permuted token alone', () => {
    for (const k of [0, 1]) {
      for (const y of [-1, 2]) {
        const f = afBlockForward(cfg, params, k, x, y);
        const first = blockPerm(k, refDims(cfg).N)[0];
        expect(f.z[first]).toEqual(x[first]);
        const back = afBlockInverse(cfg, params, k, f.z, y);
        for (let i = 0; i < x.length; i++)
          for (let j = 0; j < x[i].length; j++) expect(Math.abs(back[i][j] - x[i][j])).toBeLessThan(1e-12);
      }
    }
  });

  it('autoregressive: z̃_i depends on x̃_{≤ i} only (permuted order)', () => {
    const { N } = refDims(cfg);
    for (const k of [0, 1]) {
      const perm = blockPerm(k, N);
      const base = afBlockForward(cfg, params, k, x, 0).z;
      for (let t = 0; t < N; t++) {
        const xp = x.map((r) => r.slice());
        xp[perm[t]][1] += 0.37;
        const z = afBlockForward(cfg, params, k, xp, 0).z;
        for (let i = 0; i < t; i++) expect(z[perm[i]]).toEqual(base[perm[i]]);
        for (let i = t + 1; i < N; i++) expect(z[perm[i]].some((v, j) => v !== base[perm[i]][j])).toBe(true);
      }
    }
  });

  it('Σ_k logdet_k equals log|det ∂Z/∂X| by central finite differences', () => {
    const { N, d } = refDims(cfg);
    const D = N * d;
    const flat = (m: number[][]) => m.flat();
    const unflat = (v: number[]) => Array.from({ length: N }, (_, i) => v.slice(i * d, (i + 1) * d));
    const x0 = flat(x);
    const F = (v: number[]) => flat(refForwardImage(cfg, params, unflat(v), 1).z);
    const J: number[][] = Array.from({ length: D }, () => new Array<number>(D).fill(0));
    const eps = 1e-5;
    for (let c = 0; c < D; c++) {
      const p = x0.slice();
      const m = x0.slice();
      p[c] += eps;
      m[c] -= eps;
      const fp = F(p);
      const fm = F(m);
      for (let r = 0; r < D; r++) J[r][c] = (fp[r] - fm[r]) / (2 * eps);
    }
    // log|det J| by Gaussian elimination with partial pivoting
    let logAbsDet = 0;
    for (let c = 0; c < D; c++) {
      let piv = c;
      for (let r = c + 1; r < D; r++) if (Math.abs(J[r][c]) > Math.abs(J[piv][c])) piv = r;
      [J[c], J[piv]] = [J[piv], J[c]];
      logAbsDet += Math.log(Math.abs(J[c][c]));
      for (let r = c + 1; r < D; r++) {
        const f = J[r][c] / J[c][c];
        for (let q = c; q < D; q++) J[r][q] -= f * J[c][q];
      }
    }
    const ref = refForwardImage(cfg, params, x, 1);
    expect(Math.abs(ref.logdet)).toBeGreaterThan(0.5); // the flow is far from volume preserving
    expect(Math.abs(logAbsDet - ref.logdet)).toBeLessThan(1e-6);
  });
});
