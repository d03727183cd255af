import * as tf from '@tensorflow/tfjs';
import { JSDOM } from 'jsdom';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { experiment, type SeparationParams, type SeparationResult } from '../../src/lib/experiments/separation';
import type { LatentScale } from '../../src/lib/experiments/separation/result';
import { channelScale } from '../../src/lib/experiments/separation/run';
import type { LabelledSet } from '../../src/lib/data/binfile';
import { blockForward } from '../../src/lib/farmer/af';
import * as af from '../../src/lib/farmer/af';
import { patchify, unpatchify } from '../../src/lib/farmer/patchify';
import { toModelSpace, toPixels } from '../../src/lib/data/dequantize';
import type { FarmerModel } from '../../src/lib/farmer/model';
import { Rng } from '../../src/lib/util/random';
import {
  colourError,
  edgeCorrelation,
  otsuThreshold,
  sobelMagnitude,
  ssim,
  ssimGray,
} from '../../src/lib/metrics/structure';
import { pearson } from '../../src/lib/metrics/rank';
import { tinyModel } from '../helpers/tiny';

// Every latent the experiment hands to the AF inverse, as it was handed over.
const inverseCalls = vi.hoisted(() => [] as { z: Float32Array; shape: number[]; startBlock: number | undefined }[]);
// Rows of the inverse from one start block that come back as NaN, as a diverging flow's would.
const poison = vi.hoisted(() => ({ startBlock: -1, rows: [] as number[] }));
vi.mock('../../src/lib/farmer/af', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/lib/farmer/af')>();
  return {
    ...mod,
    afInverse: (...args: Parameters<typeof mod.afInverse>) => {
      inverseCalls.push({
        z: args[2].dataSync() as Float32Array,
        shape: args[2].shape,
        startBlock: args[3]?.startBlock,
      });
      const x = mod.afInverse(...args);
      if (args[3]?.startBlock !== poison.startBlock) return x;
      const mask = Float32Array.from({ length: x.shape[0] }, (_, r) => (poison.rows.includes(r) ? NaN : 1));
      const out = tf.tidy(() => x.mul(tf.tensor3d(mask, [x.shape[0], 1, 1])) as tf.Tensor3D);
      x.dispose();
      return out;
    },
  };
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A bright rectangle on a dark background per image (colours per image when RGB), plus noise. */
function testSet(n: number, size: number, channels: number, seed = 5): LabelledSet {
  const rng = new Rng(seed);
  const images = new Uint8Array(n * size * size * channels);
  for (let i = 0; i < n; i++) {
    const [r0, c0] = [1 + rng.int(2), 1 + rng.int(2)];
    const [r1, c1] = [r0 + 3 + rng.int(size - r0 - 4), c0 + 3 + rng.int(size - c0 - 4)];
    const fg = Array.from({ length: channels }, () => 180 + rng.int(70));
    const bg = Array.from({ length: channels }, () => 10 + rng.int(50));
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < channels; c++) {
          const inside = y >= r0 && y <= r1 && x >= c0 && x <= c1;
          images[((i * size + y) * size + x) * channels + c] = (inside ? fg[c] : bg[c]) + rng.int(5);
        }
  }
  return {
    n,
    height: size,
    width: size,
    channels,
    numClasses: 3,
    images,
    labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
  };
}

const SIZE = 8;
const gray = () => tinyModel({ size: SIZE, patch: 2, blocks: 3 }); // N = 16, d = 4, d_I = 2
const grayData = testSet(6, SIZE, 1);
const params = (model: FarmerModel, raw: Record<string, unknown> = {}): SeparationParams =>
  experiment.params.parse(raw, model);

function run(
  model: FarmerModel,
  set: LabelledSet,
  raw: Record<string, unknown> = {},
  ctx = {},
): Promise<SeparationResult> {
  return experiment.run(model, { testSet: set }, params(model, raw), ctx);
}

/** Z^k of one image computed block by block here, [N·d]. */
function latentAt(model: FarmerModel, pixels: Uint8Array, k: number): Float32Array {
  const { height: H, width: W, channels: C } = model.config.image;
  return tf.tidy(() => {
    let z = patchify(tf.tensor4d(toModelSpace(pixels), [1, H, W, C]), model.config.patch_size);
    for (let b = 0; b < k; b++) z = blockForward(model.params, model.config, b, z).z;
    return z.dataSync() as Float32Array;
  });
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('structure metrics', () => {
  const img = (data: number[], H: number, W: number, C = 1) => ({
    data: Uint8Array.from(data),
    height: H,
    width: W,
    channels: C,
  });
  const rand = (n: number, seed: number) =>
    Array.from(
      { length: n },
      (() => {
        const r = new Rng(seed);
        return () => r.int(256);
      })(),
    );

  it('SSIM of identical images is 1, of constant images the closed form (2ab + C1)/(a² + b² + C1)', () => {
    const a = img(rand(63, 1), 7, 9);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    const C1 = (0.01 * 255) ** 2;
    for (const [u, v] of [
      [40, 200],
      [0, 255],
      [128, 130],
    ]) {
      const s = ssim(img(Array(30).fill(u), 5, 6), img(Array(30).fill(v), 5, 6));
      expect(s).toBeCloseTo((2 * u * v + C1) / (u * u + v * v + C1), 12);
    }
  });

  it('SSIM equals a direct 2-D windowed loop (renormalised window at the border)', () => {
    const [H, W] = [7, 9];
    const x = Float64Array.from(rand(H * W, 2)),
      y = Float64Array.from(rand(H * W, 3), (v, i) => (v + x[i]) / 2);
    let total = 0;
    const C1 = (0.01 * 255) ** 2,
      C2 = (0.03 * 255) ** 2;
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        let n = 0,
          mx = 0,
          my = 0,
          xx = 0,
          yy = 0,
          xy = 0;
        for (let u = -5; u <= 5; u++)
          for (let v = -5; v <= 5; v++) {
            if (i + u < 0 || i + u >= H || j + v < 0 || j + v >= W) continue;
            const w = Math.exp(-(u * u + v * v) / (2 * 1.5 * 1.5)),
              p = x[(i + u) * W + j + v],
              q = y[(i + u) * W + j + v];
            ((n += w), (mx += w * p), (my += w * q), (xx += w * p * p), (yy += w * q * q), (xy += w * p * q));
          }
        ((mx /= n), (my /= n), (xx /= n), (yy /= n), (xy /= n));
        total +=
          ((2 * mx * my + C1) * (2 * (xy - mx * my) + C2)) /
          ((mx * mx + my * my + C1) * (xx - mx * mx + yy - my * my + C2));
      }
    expect(ssimGray(x, y, H, W)).toBeCloseTo(total / (H * W), 10);
    expect(ssimGray(x, y, H, W)).toBeLessThan(0.99);
  });

  it('RGB SSIM is computed on BT.601 luminance', () => {
    const a = img([255, 0, 0, 0, 0, 255, 10, 200, 30, 90, 90, 90], 2, 2, 3);
    const b = img([0, 0, 255, 255, 0, 0, 10, 200, 30, 90, 90, 90], 2, 2, 3); // R and B swapped
    const Y = (p: number[]) =>
      Float64Array.from([0, 1, 2, 3], (i) => 0.299 * p[3 * i] + 0.587 * p[3 * i + 1] + 0.114 * p[3 * i + 2]);
    const want = ssimGray(Y(Array.from(a.data)), Y(Array.from(b.data)), 2, 2);
    expect(ssim(a, b)).toBeCloseTo(want, 12);
    expect(ssim(a, b)).toBeLessThan(0.999);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
  });

  it('Sobel of a vertical step: |gx| = 4·step on the two columns beside it, 0 elsewhere', () => {
    const [H, W] = [4, 6];
    const x = Float64Array.from({ length: H * W }, (_, i) => (i % W >= 3 ? 10 : 0));
    const g = sobelMagnitude(x, H, W);
    for (let i = 0; i < H; i++) expect(Array.from(g.subarray(i * W, (i + 1) * W))).toEqual([0, 0, 40, 40, 0, 0]);
  });

  it('Pearson: hand case, sign, and NaN (undefined) for a constant side', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // centred: x = (−1, 0, 1), y = (0, −1, 1): Σxy = 1, Σx² = 2, Σy² = 2 → r = 1/2
    expect(pearson([-1, 0, 1], [1, 0, 2])).toBeCloseTo(0.5, 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it('Otsu splits a bimodal histogram between its modes; colour error is 0 for the same colours and the RGB distance otherwise', () => {
    const t = otsuThreshold(Float64Array.from([10, 12, 11, 200, 205, 198, 9]));
    expect(t).toBeGreaterThan(12);
    expect(t).toBeLessThan(198);
    const clean = img([200, 0, 0, 200, 0, 0, 0, 0, 40, 0, 0, 40], 2, 2, 3); // fg red (top row), bg dark blue
    expect(colourError(clean, clean)).toBe(0);
    const recoloured = img([0, 200, 0, 0, 200, 0, 0, 0, 40, 0, 0, 40], 2, 2, 3); // fg now green
    expect(colourError(clean, recoloured)).toBeCloseTo(Math.hypot(200 / 255, 200 / 255) / 2, 12);
    const square = img(
      Array.from({ length: 25 }, (_, i) => (i % 5 >= 1 && i % 5 <= 3 && i >= 5 && i < 20 ? 200 : 20)),
      5,
      5,
    );
    expect(edgeCorrelation(square, square)).toBeCloseTo(1, 12);
    expect(edgeCorrelation(square, img(Array(25).fill(90), 5, 5))).toBe(0);
  });
});

describe('separation experiment', () => {
  it('counts the images whose decoding is not finite at each point and says where', async () => {
    const model = gray();
    // levels 3: rows of a depth's batch are (sample, mode, α) = sample·6 + mode·3 + α index
    poison.startBlock = 2;
    poison.rows = [0 * 6 + 0 * 3 + 2, 1 * 6 + 0 * 3 + 2, 1 * 6 + 1 * 3 + 1];
    try {
      const r = await run(model, grayData, { levels: 3, images: 2 });
      const bad = r.curves.filter((c) => c.nonFinite > 0).map((c) => [c.depth, c.mode, c.alpha, c.nonFinite]);
      expect(bad).toEqual([
        [2, 'partial', 1, 2],
        [2, 'full', 0.5, 1],
      ]);
      const perImage = r.height * r.width * r.channels;
      expect(r.nonFinite).toBe(3 * perImage);
      expect(r.notes.join(' ')).toContain(
        'Images with such values: depth 2, partial, α 1: 2 of 2; depth 2, full, α 0.5: 1 of 2.',
      );
      // the note gives the clean latent's scale where decodes failed, and says nothing bounds a
      const at2 = r.latentScales.filter((q) => q.depth === 2);
      const fmt = (q: LatentScale) => `depth 2, ${q.mode}: mean ${q.mean.toFixed(2)}, sd ${q.sd.toFixed(2)}`;
      expect(r.notes.join(' ')).toContain(`have ${at2.map(fmt).join('; ')}.`);
      expect(r.notes.join(' ')).toContain('soft_clip is 0');
      expect(r.roundTripError).toBeLessThan(1e-3); // no α = 0 row was poisoned
    } finally {
      poison.startBlock = -1;
      poison.rows = [];
    }
  });

  it('reports the scale of the channels each mode noises, from the clean latents Z^k', async () => {
    const model = gray();
    const { tokens: N, tokenDim: d, informative: dI } = model.dims;
    const S = 3;
    const r = await run(model, grayData, { levels: 2, images: S, depths: '1,3' });
    expect(r.latentScales.map((q) => [q.depth, q.mode])).toEqual([
      [1, 'partial'],
      [1, 'full'],
      [3, 'partial'],
      [3, 'full'],
    ]);
    for (const q of r.latentScales) {
      // the values restated: Z^k of each image block by block here, the mode's channels pooled
      const values: number[] = [];
      for (let s = 0; s < S; s++) {
        const z = latentAt(model, grayData.images.subarray(s * SIZE * SIZE, (s + 1) * SIZE * SIZE), q.depth);
        for (let t = 0; t < N; t++) for (let j = q.mode === 'partial' ? dI : 0; j < d; j++) values.push(z[t * d + j]);
      }
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(q.mean).toBeCloseTo(mean, 4);
      expect(q.sd).toBeCloseTo(sd, 4);
    }
    expect(r.nonFinite).toBe(0);
    expect(r.notes.join(' ')).not.toContain('noised channels of the clean latent');
  });

  it('channelScale: mean and population sd of the channels [from, d) of every token', () => {
    // two tokens of d = 3; channels 1–2 hold 1, 3, 5, 7: mean 4, sd √5
    const z = Float32Array.from([100, 1, 3, -100, 5, 7]);
    const q = channelScale(z, 3, 1);
    expect(q.mean).toBeCloseTo(4, 12);
    expect(q.sd).toBeCloseTo(Math.sqrt(5), 12);
    expect(channelScale(z, 3, 0).mean).toBeCloseTo(16 / 6, 12);
  });

  it('α = 0 reproduces the clean image (inverse(forward(x)) within 1e-3 in model space, SSIM ≈ 1)', async () => {
    const model = gray();
    const r = await run(model, grayData, { levels: 3 });
    expect(r.modes).toEqual(['partial', 'full']);
    expect(r.depths).toEqual([1, 2, 3]);
    expect(r.roundTripError).toBeLessThan(1e-3);
    expect(r.nonFinite).toBe(0);
    for (const c of r.curves.filter((c) => c.alpha === 0)) {
      expect(c.ssim).toBeGreaterThan(0.999);
      expect(c.edge).toBeGreaterThan(0.999);
    }
    const px = SIZE * SIZE;
    for (let di = 0; di < 3; di++)
      for (let mi = 0; mi < 2; mi++) {
        const off = (di * 2 + mi) * 3 * px;
        expect(maxAbs(r.grid.subarray(off, off + px), grayData.images.subarray(0, px))).toBeLessThanOrEqual(1);
      }
  });

  it('hands the inverse Z^k with only the redundant channels noised (partial) or all of them (full)', async () => {
    const model = gray();
    const { tokens: N, tokenDim: d, informative: dI } = model.dims;
    inverseCalls.length = 0;
    const seed = 11,
      S = 2,
      L = 3;
    await run(model, grayData, { levels: L, images: S, seed, depths: '1,3' });
    expect(inverseCalls.map((c) => c.startBlock)).toEqual([1, 3]);
    // the noise recipe, restated: stream s of new Rng(seed), forked in sample order
    const rng = new Rng(seed);
    const eps = [rng.fork().normals(N * d), rng.fork().normals(N * d)];
    for (const [ci, k] of [1, 3].entries()) {
      const call = inverseCalls[ci];
      expect(call.shape).toEqual([S * 2 * L, N, d]);
      for (let s = 0; s < S; s++) {
        const z = latentAt(model, grayData.images.subarray(s * SIZE * SIZE, (s + 1) * SIZE * SIZE), k);
        for (const [mi, from] of [dI, 0].entries())
          for (const [ai, alpha] of [0, 0.5, 1].entries()) {
            const row = call.z.subarray(((s * 2 + mi) * L + ai) * N * d, ((s * 2 + mi) * L + ai + 1) * N * d);
            for (let t = 0; t < N; t++)
              for (let j = 0; j < d; j++) {
                const i = t * d + j;
                const want = j < from ? z[i] : Math.sqrt(1 - alpha * alpha) * z[i] + alpha * eps[s][i];
                expect(Math.abs(row[i] - want)).toBeLessThan(1e-5);
                if (j < from) expect(row[i]).toBe(z[i]); // informative channels passed through untouched
              }
          }
      }
    }
  });

  it('α = 1 full interpolation decodes the seeded noise itself', async () => {
    const model = gray();
    const { tokens: N, tokenDim: d } = model.dims;
    const seed = 3,
      L = 3;
    const r = await run(model, grayData, { levels: L, images: 1, seed });
    const eps = new Rng(seed).fork().normals(N * d);
    const px = SIZE * SIZE;
    for (const [di, k] of r.depths.entries()) {
      const want = tf.tidy(() => {
        const x = af.afInverse(model.params, model.config, tf.tensor3d(eps, [1, N, d]), { startBlock: k });
        return toPixels(unpatchify(x, 2, SIZE, SIZE, 1).dataSync());
      });
      const off = ((di * 2 + 1) * L + (L - 1)) * px; // mode full, last α
      expect(maxAbs(r.grid.subarray(off, off + px), want)).toBeLessThanOrEqual(1);
      // and it is not the clean image
      expect(maxAbs(want, grayData.images.subarray(0, px))).toBeGreaterThan(20);
    }
  });

  it('is deterministic in the seed, and the seed matters', async () => {
    const model = gray();
    const a = await run(model, grayData, { levels: 3, seed: 7 });
    const b = await run(model, grayData, { levels: 3, seed: 7 });
    const c = await run(model, grayData, { levels: 3, seed: 8 });
    expect(b.grid).toEqual(a.grid);
    expect(b.curves).toEqual(a.curves);
    expect(c.grid).not.toEqual(a.grid);
  });

  it('a gaussian-prior model gets Full only, and says why', async () => {
    const model = tinyModel({ size: SIZE, patch: 2, blocks: 2, prior: 'gaussian' });
    const r = await run(model, grayData, { levels: 2, images: 1 });
    expect(r.modes).toEqual(['full']);
    expect(r.notes.join(' ')).toMatch(/Gaussian prior.*only Full/);
    expect(r.grid.length).toBe(2 * 1 * 2 * SIZE * SIZE);
  });

  it('RGB: colour curves, figures in jsdom, JSON that rebuilds the grid', async () => {
    const model = tinyModel({ size: SIZE, patch: 2, blocks: 2, channels: 3, informative: 4 });
    const set = testSet(3, SIZE, 3);
    const p = params(model, { levels: '3', images: '2', depths: '2,1,2' });
    expect(p).toEqual({ image: 0, images: 2, levels: 3, depths: [1, 2], seed: 0 });
    const r = await experiment.run(model, { testSet: set }, p);
    expect(r.curves.every((c) => c.colour !== null && Number.isFinite(c.colour))).toBe(true);
    expect(r.curves.filter((c) => c.alpha === 0).every((c) => c.colour! < 0.01)).toBe(true);

    const json = JSON.parse(JSON.stringify(experiment.toJSON(r, p))) as {
      formula: string;
      alphas: number[];
      grid: { shape: number[]; data: number[] };
    };
    expect(json.formula).toContain('√(1 − α²)');
    expect(json.alphas).toEqual([0, 0.5, 1]);
    expect(json.grid.shape).toEqual([2, 2, 3, SIZE, SIZE, 3]);
    expect(Uint8Array.from(json.grid.data)).toEqual(r.grid);

    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    const figs = [...experiment.figures(r, p, doc)];
    expect(figs.map((f) => f.name)).toEqual(['grid', 'ssim', 'edges', 'colour', 'summary']);
    const grid = figs[0].node;
    expect(grid.querySelectorAll('image').length).toBe(1); // one PNG of all images
    expect(grid.querySelectorAll('rect.separation-cell').length).toBe(2 * (1 + 2 * 3)); // per depth: clean + modes × levels
    expect(grid.querySelector('image')!.getAttribute('href')).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    // every hover target sits on its image inside the one PNG (RGBA, scale s display px per pixel)
    const href = grid.querySelector('image')!.getAttribute('href')!;
    const png = decode(Buffer.from(href.slice('data:image/png;base64,'.length), 'base64'));
    const [ix, iy] = ['x', 'y'].map((a) => Number(grid.querySelector('image')!.getAttribute(a)));
    const scale = Number(grid.querySelector('image')!.getAttribute('width')) / png.width;
    const rects = [...grid.querySelectorAll('rect.separation-cell')];
    const px = SIZE * SIZE * 3;
    rects.forEach((rect, i) => {
      const [x0, y0] = [(Number(rect.getAttribute('x')) - ix) / scale, (Number(rect.getAttribute('y')) - iy) / scale];
      const tile = new Uint8Array(px);
      for (let y = 0; y < SIZE; y++)
        for (let x = 0; x < SIZE; x++)
          for (let c = 0; c < 3; c++) tile[(y * SIZE + x) * 3 + c] = png.data[((y0 + y) * png.width + x0 + x) * 4 + c];
      const [di, j] = [Math.floor(i / 7), i % 7]; // 7 targets per depth: clean, then mode-major α
      const want = j === 0 ? r.clean : r.grid.subarray((di * 6 + j - 1) * px, (di * 6 + j) * px);
      expect(tile).toEqual(Uint8Array.from(want));
    });
    for (const f of figs.slice(1)) expect(f.node.querySelector('svg')).not.toBeNull();
    expect(figs[1].node.textContent).toContain('SSIM');
  });

  it('supplied image, progress, cancellation, no leaked tensors', async () => {
    const model = gray();
    const before = tf.memory().numTensors;
    const pixels = grayData.images.slice(3 * SIZE * SIZE, 4 * SIZE * SIZE);
    const seen: number[] = [];
    const r = await experiment.run(
      model,
      { testSet: grayData, image: { pixels, height: SIZE, width: SIZE, channels: 1 } },
      params(model, { levels: 2, images: 2 }),
      {
        onProgress: (done, total) => seen.push(done / total),
      },
    );
    expect(r.sources).toEqual([null, null]);
    expect(r.clean).toEqual(pixels);
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1])).toBe(true);

    const controller = new AbortController();
    const p = experiment.run(model, { testSet: grayData }, params(model, { levels: 2 }), {
      signal: controller.signal,
      onPartial: () => controller.abort(),
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('parses parameters, rejects bad ones, and prices a run', () => {
    const model = gray();
    expect(experiment.params.defaults(model)).toEqual({ image: 0, images: 2, levels: 5, depths: [1, 2, 3], seed: 0 });
    expect(params(model, { depths: '3, 1' }).depths).toEqual([1, 3]);
    expect(params(model, { depths: 'all' }).depths).toEqual([1, 2, 3]);
    expect(() => params(model, { levels: 1 })).toThrow(/invalid levels/);
    expect(() => params(model, { depths: '4' })).toThrow(/invalid depths/);
    expect(() => params(model, { image: -1 })).toThrow(/invalid image/);
    expect(() => params(model, { seed: 1.5 })).toThrow(/invalid seed/);
    const cost = experiment.cost(params(model, {}), model);
    // 2 images × 2 modes × 5 levels × 3 depths = 60 inversions, 16 tokens
    expect(cost.units).toBe(60 * 16);
    expect(cost.description).toContain('60 AF inversions');
  });
});

describe('separation page logic', () => {
  it('toggles depths, never to none', async () => {
    const { toggleDepth } = await import('../../src/lib/experiments/separation/params');
    expect(toggleDepth([1, 2, 3], 2)).toEqual([1, 3]);
    expect(toggleDepth([1, 3], 2)).toEqual([1, 2, 3]);
    expect(toggleDepth([3], 3)).toEqual([3]);
    expect(toggleDepth([3], 1)).toEqual([1, 3]);
  });

  it('reads a result in words from its own numbers', async () => {
    const { reading, readingRows } = await import('../../src/lib/experiments/separation/reading');
    const point = (depth: number, mode: 'partial' | 'full', alpha: number, edge: number) => ({
      depth,
      mode,
      alpha,
      ssim: edge,
      ssimSd: 0,
      edge,
      edgeSd: 0,
      colour: null,
      colourSd: null,
    });
    // partial keeps contours more with depth; full loses them
    const curves = [
      point(1, 'partial', 0, 1),
      point(1, 'partial', 1, 0.2),
      point(1, 'full', 0, 1),
      point(1, 'full', 1, 0),
      point(2, 'partial', 0, 1),
      point(2, 'partial', 1, 0.8),
      point(2, 'full', 0, 1),
      point(2, 'full', 1, 0),
    ];
    const summary = [1, 2].flatMap((depth) =>
      (['partial', 'full'] as const).map((mode) => {
        const [a, b] = curves.filter((c) => c.depth === depth && c.mode === mode).map((c) => c.edge);
        return { depth, mode, ssimArea: (a + b) / 2, edgeArea: (a + b) / 2, colourArea: null };
      }),
    );
    const r = {
      alphas: [0, 1],
      depths: [1, 2],
      modes: ['partial', 'full'],
      channels: 1,
      curves,
      summary,
    } as unknown as SeparationResult;
    expect(readingRows(r).map((q) => q.edge)).toEqual([
      { partial: 0.2, full: 0 },
      { partial: 0.8, full: 0 },
    ]);
    const text = reading(r).join(' ');
    expect(text).toContain('At every depth shown, noising only the redundant channels keeps clearly more');
    expect(text).toContain('partial 0.90, full 0.50');
    expect(text).toContain('rises from 0.20 at depth 1 to 0.80 at depth 2');
  });
});
