import * as tf from '@tensorflow/tfjs';
import { JSDOM } from 'jsdom';
import { beforeAll, describe, expect, it } from 'vitest';
import { averageRanks, spearman } from '../../src/lib/metrics/rank';
import { median, modifiedZOutliers } from '../../src/lib/metrics/robust';
import { laplacianVariance, laplacianVariances, luminance } from '../../src/lib/metrics/blur';
import { experiment, type LogdetParams, type LogdetResult } from '../../src/lib/experiments/logdet';
import { describeCorrelation, ruleSentence } from '../../src/lib/experiments/logdet/reading';
import { galleryOrder, heatmapValues } from '../../src/lib/experiments/logdet/result';
import type { LabelledSet } from '../../src/lib/data/binfile';
import { Rng } from '../../src/lib/util/random';
import { tinyModel } from '../helpers/tiny';
import { defaultSelection, selectionFromTarget, validSelection } from '../../src/notebooks/logdet/explore';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Ranks by counting, O(n²): 1 + #smaller + (#equal − 1)/2. */
function slowRanks(x: number[]): number[] {
  return x.map((v) => 1 + x.filter((w) => w < v).length + (x.filter((w) => w === v).length - 1) / 2);
}

function slowPearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n,
    mb = b.reduce((s, v) => s + v, 0) / n;
  let num = 0,
    da = 0,
    db = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

describe('Spearman rank correlation', () => {
  it('matches a hand-computed case with ties in both variables', () => {
    // ranks x = [1, 2.5, 2.5, 4, 5], ranks y = [2, 1, 3.5, 3.5, 5]; Σdxdy = 7.25, Σdx² = Σdy² = 9.5
    expect(Array.from(averageRanks([1, 2, 2, 3, 4]))).toEqual([1, 2.5, 2.5, 4, 5]);
    expect(Array.from(averageRanks([2, 1, 3, 3, 5]))).toEqual([2, 1, 3.5, 3.5, 5]);
    const c = spearman([1, 2, 2, 3, 4], [2, 1, 3, 3, 5]);
    expect(c.rho).toBeCloseTo(29 / 38, 14);
    expect(c.n).toBe(5);
  });

  it('equals the Pearson correlation of counted ranks on tied random integers', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 5; trial++) {
      const x = Array.from({ length: 60 }, () => rng.int(8));
      const y = x.map((v) => rng.int(6) + (trial % 2 ? -v : v));
      expect(Array.from(averageRanks(x))).toEqual(slowRanks(x));
      expect(spearman(x, y).rho).toBeCloseTo(slowPearson(slowRanks(x), slowRanks(y)), 12);
    }
  });

  it('is ±1 for monotone relations, drops non-finite pairs, and is NaN without spread', () => {
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64]).rho).toBeCloseTo(1, 14);
    expect(spearman([1, 2, 3, 4], [9, 4, 1, 0]).rho).toBeCloseTo(-1, 14);
    expect(spearman([1, NaN, 3, 4, Infinity], [1, 5, 27, 64, 2])).toMatchObject({ rho: 1, n: 3 });
    expect(spearman([1, 1, 1], [1, 2, 3]).rho).toBeNaN();
  });

  it('gives a small permutation p-value for a strong relation and a large one for noise, deterministically', () => {
    const rng = new Rng(3);
    const x = Array.from({ length: 40 }, () => rng.normal());
    const strong = x.map((v) => v + 0.3 * rng.normal());
    const noise = x.map(() => rng.normal());
    const test = (seed: number) => {
      const r = new Rng(seed);
      return { permutations: 500, uniform: () => r.uniform() };
    };
    expect(spearman(x, strong, test(1)).p).toBeLessThan(0.01);
    expect(spearman(x, noise, test(1)).p).toBeGreaterThan(0.05);
    expect(spearman(x, noise, test(1)).p).toBe(spearman(x, noise, test(1)).p);
  });
});

describe('modified z-score outlier rule', () => {
  it('computes median, MAD and M by hand', () => {
    const o = modifiedZOutliers([1, 2, 3, 4, 100]);
    expect(o.rule).toMatchObject({ median: 3, mad: 1, scaleKind: 'mad', threshold: 3.5 });
    expect(o.z[4]).toBeCloseTo(0.6745 * 97, 10);
    expect(o.z[0]).toBeCloseTo(-0.6745 * 2, 10);
    expect(o.outlier).toEqual([false, false, false, false, true]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('flags exactly the planted outliers and none in a clean normal sample (seed 11)', () => {
    const rng = new Rng(11);
    const clean = Array.from({ length: 200 }, () => 50 + 4 * rng.normal());
    expect(modifiedZOutliers(clean).outlier.filter(Boolean)).toHaveLength(0);
    const planted = [...clean.slice(0, 200), 95, 5, 80];
    const flagged = modifiedZOutliers(planted).outlier.flatMap((f, i) => (f ? [i] : []));
    expect(flagged).toEqual([200, 201, 202]);
  });

  it('flags about the normal tail rate P(|z| > 3.5) ≈ 0.05% of clean normal data', () => {
    const rng = new Rng(12);
    let flagged = 0;
    for (let t = 0; t < 50; t++)
      flagged += modifiedZOutliers(Array.from({ length: 200 }, () => rng.normal())).outlier.filter(Boolean).length;
    expect(flagged / 10_000).toBeLessThan(0.003);
  });

  it('falls back to the mean absolute deviation when MAD is 0, and flags nothing when all are equal', () => {
    const o = modifiedZOutliers([5, 5, 5, 5, 6]);
    expect(o.rule.scaleKind).toBe('mean-ad');
    expect(o.z[4]).toBeCloseTo(1 / (1.253314 * 0.2), 10);
    expect(o.outlier).toEqual([false, false, false, false, true]);
    expect(modifiedZOutliers([2, 2, 2]).outlier).toEqual([false, false, false]);
    expect(() => modifiedZOutliers([1, NaN])).toThrow(/invalid value/);
  });
});

describe('variance of the Laplacian', () => {
  it('is 0 for a constant image and for a linear ramp', () => {
    expect(laplacianVariance(new Float64Array(36).fill(128), 6, 6)).toBe(0);
    const ramp = Float64Array.from({ length: 30 }, (_, i) => 3 * (i % 6) + 5 * Math.floor(i / 6));
    expect(laplacianVariance(ramp, 5, 6)).toBeCloseTo(0, 10);
  });

  it('matches the closed form 16·(b − a)² for a checkerboard with an even interior', () => {
    // Each interior response is ±4(b − a), half of each sign: mean 0, variance 16(b − a)².
    const H = 8,
      W = 10,
      a = 20,
      b = 235;
    const board = Uint8Array.from({ length: H * W }, (_, i) => (((i % W) + Math.floor(i / W)) % 2 ? b : a));
    expect(laplacianVariances(board, 1, H, W, 1)[0]).toBeCloseTo(16 * (b - a) ** 2, 8);
  });

  it('uses Rec. 601 luminance for RGB', () => {
    const px = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    const lum = luminance(px, 2, 2, 3);
    expect(Array.from(lum)).toEqual(
      [0.299 * 255, 0.587 * 255, 0.114 * 255, 0.299 * 10 + 0.587 * 20 + 0.114 * 30].map((v) => expect.closeTo(v, 10)),
    );
  });
});

function tinySet(n: number, size: number, numClasses: number, seed = 5): LabelledSet {
  const rng = new Rng(seed);
  const images = new Uint8Array(n * size * size);
  // Blobs of varying sharpness so the Laplacian variance differs between images.
  for (let i = 0; i < n; i++)
    for (let p = 0; p < size * size; p++)
      images[i * size * size + p] = rng.uniform() < 0.1 + 0.02 * (i % 10) ? 255 : rng.int(40);
  return {
    n,
    height: size,
    width: size,
    channels: 1,
    images,
    labels: Uint8Array.from({ length: n }, (_, i) => i % numClasses),
    numClasses,
  };
}

describe('logdet experiment on a tiny random checkpoint', () => {
  const model = tinyModel({ size: 8, patch: 2 });
  const set = tinySet(24, 8, 3);
  const p: LogdetParams = { ...experiment.params.defaults(model), nTest: 20, nSamples: 5, seed: 4 };
  let result: LogdetResult;
  const progress: [number, number][] = [];
  const partials: unknown[] = [];

  beforeAll(async () => {
    result = await experiment.run(model, { testSet: set }, p, {
      onProgress: (d, t) => progress.push([d, t]),
      onPartial: (x) => partials.push(x),
    });
  });

  it('sends the test-image results as a partial before sampling, whose figures draw', () => {
    expect(partials).toHaveLength(1);
    const partial = partials[0] as LogdetResult;
    expect(partial.test).toEqual(result.test);
    expect(partial.samples.points).toEqual([]);
    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    expect([...experiment.figures(partial, p, doc)]).toHaveLength(6);
  });

  it('measures every requested image, keeps indices and pixels, and reports progress to the end', () => {
    expect(result.test.points.map((q) => q.index)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(result.test.pixels).toEqual(set.images.slice(0, 20 * 64));
    expect(result.samples.requested).toBe(5);
    expect(result.samples.points.length + result.samples.nonFinite.length).toBe(5);
    expect(result.samples.points.map((q) => q.label)).toEqual(result.samples.points.map((q) => q.index % 3));
    expect(result.grid).toEqual({ rows: 4, cols: 4 });
    const [lastDone, total] = progress.at(-1)!;
    expect(lastDone).toBe(total);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
  });

  it('per-token logdets sum to the per-block and total logdet of each image', () => {
    const { blocks: n, tokens: N } = result;
    for (const src of [result.test, result.samples])
      src.points.forEach((q, i) => {
        let total = 0;
        for (let k = 0; k < n; k++) {
          let block = 0;
          for (let t = 0; t < N; t++) block += src.perToken[(i * n + k) * N + t];
          expect(block).toBeCloseTo(q.perBlock[k], 3);
          total += block;
        }
        expect(total).toBeCloseTo(q.logdet, 3);
        const map = heatmapValues(result, { source: src.source, image: i, block: 'total' });
        expect(map.reduce((s, v) => s + v, 0)).toBeCloseTo(q.logdet, 3);
      });
    const meanMap = heatmapValues(result, { source: 'test', image: 'mean', block: 'total' });
    const meanLogdet = result.test.points.reduce((s, q) => s + q.logdet, 0) / result.test.points.length;
    expect(meanMap.reduce((s, v) => s + v, 0)).toBeCloseTo(meanLogdet, 3);
  });

  it('matches its own parts: rule flags, Laplacian variance and Spearman from the kept values', () => {
    const ld = result.test.points.map((q) => q.logdet);
    expect(result.test.points.map((q) => q.outlier)).toEqual(modifiedZOutliers(ld, p.threshold).outlier);
    const lv = laplacianVariances(result.test.pixels, 20, 8, 8, 1);
    expect(result.test.points.map((q) => q.laplacianVar)).toEqual(Array.from(lv));
    expect(result.test.spearman.rho).toBeCloseTo(slowPearson(slowRanks(ld), slowRanks(Array.from(lv))), 12);
  });

  it('is deterministic for a seed, and the seed changes the dequantization noise', async () => {
    const before = tf.memory().numTensors;
    const again = await experiment.run(model, { testSet: set }, p);
    expect(tf.memory().numTensors).toBe(before);
    expect(JSON.stringify(experiment.toJSON(again, p))).toBe(JSON.stringify(experiment.toJSON(result, p)));
    const other = await experiment.run(model, { testSet: set }, { ...p, seed: 5, nSamples: 0 });
    expect(other.test.points[0].logdet).not.toBe(result.test.points[0].logdet);
  });

  it('exports the JSON the brief asks for and builds its figures in jsdom', () => {
    const json = JSON.parse(JSON.stringify(experiment.toJSON(result, p))) as Record<string, any>;
    expect(json.params).toEqual(p);
    expect(json.rule.text).toMatch(/Iglewicz–Hoaglin/);
    expect(json.images).toHaveLength(result.test.points.length + result.samples.points.length);
    expect(Object.keys(json.images[0]).sort()).toEqual(
      ['index', 'label', 'laplacian_var', 'logdet', 'modified_z', 'outlier', 'per_block', 'source'].sort(),
    );
    expect(json.correlations.prediction).toMatch(/negative/);
    expect(json.heatmaps.test_mean.total).toHaveLength(16);
    expect(json.heatmaps.test_mean.per_block).toHaveLength(2);
    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    const figs = [...experiment.figures(result, p, doc)];
    expect(figs.map((f) => f.name)).toEqual([
      'logdet-histogram',
      'logdet-per-block',
      'token-heatmap',
      'blur-scatter',
      'gallery-samples',
      'gallery-test',
    ]);
    const gallery = figs.find((f) => f.name === 'gallery-test')!.node;
    const order = galleryOrder(result.test.points).map((q) => String(q.index));
    expect(gallery.localName).toBe('svg');
    expect(Array.from(gallery.querySelectorAll('g[data-index]'), (g) => g.getAttribute('data-index'))).toEqual(order);
    expect(gallery.querySelector('image')!.getAttribute('href')).toMatch(/^data:image\/png;base64,/);
    for (const f of figs) {
      // one self-contained SVG each, so SVG/PNG exports and `farmer reproduce` keep keys and titles
      expect(f.node.localName, f.name).toBe('svg');
      expect(Number(f.node.getAttribute('width')), f.name).toBeGreaterThan(0);
      expect(Number(f.node.getAttribute('height')), f.name).toBeGreaterThan(0);
    }
    expect(figs.find((f) => f.name === 'token-heatmap')!.node.textContent).toMatch(
      /test mean, total.*samples mean, total/,
    );
    expect(figs.find((f) => f.name === 'logdet-per-block')!.node.querySelectorAll('svg')).toHaveLength(2);
  });

  it('states the sign of the correlation plainly', () => {
    expect(describeCorrelation({ rho: -0.4, n: 30, p: 0.02 }, 'samples')).toMatch(
      /negative: higher logdet goes with less sharp images/,
    );
    expect(describeCorrelation({ rho: 0.4, n: 30, p: 0.02 }, 'samples')).toMatch(/opposite of the paper/);
  });

  it('excludes and counts samples that blow up in the inverse', async () => {
    const wild = tinyModel({ size: 8, patch: 2 }, 3);
    for (const [name, t] of wild.params)
      if (/proj_out\.weight/.test(name)) {
        wild.params.set(
          name,
          tf.tidy(() => t.mul(40)),
        );
        t.dispose();
      }
    const r = await experiment.run(wild, { testSet: set }, { ...p, nTest: 4, nSamples: 8 });
    expect(r.samples.nonFinite.length).toBeGreaterThan(0);
    expect(r.samples.points.length + r.samples.nonFinite.length).toBe(8);
    for (const q of r.samples.points) expect(Number.isFinite(q.logdet)).toBe(true);
    expect(r.samples.points.map((q) => q.index)).not.toContain(r.samples.nonFinite[0]);
  });

  it('stops between batches when cancelled', async () => {
    const ac = new AbortController();
    const run = experiment.run(model, { testSet: set }, p, {
      signal: ac.signal,
      onProgress: (d) => {
        if (d >= 1) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('page helpers: a click picks the thumbnail or the scatter point under it; sentences state the rule', () => {
    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    const figs = [...experiment.figures(result, p, doc)];
    const thumb = figs.find((f) => f.name === 'gallery-test')!.node.querySelector('g[data-index="3"] image')!;
    expect(selectionFromTarget(thumb)).toEqual({ source: 'test', index: 3 });
    const scatter = figs.find((f) => f.name === 'blur-scatter')!.node as HTMLElement & { value?: unknown };
    scatter.value = result.test.points[7]; // what Plot's pointer sets
    expect(selectionFromTarget(scatter.querySelector('circle'))).toEqual({ source: 'test', index: 7 });
    expect(selectionFromTarget(doc.body)).toBeNull();
    const first = galleryOrder(result.samples.points)[0];
    expect(defaultSelection(result)).toEqual({ source: 'sample', index: first.index });
    expect(validSelection(result, { source: 'test', index: 999 })).toEqual(defaultSelection(result));
    const flagged = result.test.points.filter((q) => q.outlier).length;
    expect(ruleSentence(result.test)).toContain(`${flagged} of 20 flagged`);
  });

  it('runs on other spec-conformant models: RGB, Gaussian prior, unconditional, gaussian dequantization', async () => {
    const rgb = tinyModel({ prior: 'gaussian', channels: 3, size: 4, numClasses: 0 });
    rgb.config.dequantization = { kind: 'gaussian', sigma_min: 0.005, sigma_max: 0.1, schedule: 'cosine' };
    const rng = new Rng(8);
    const set: LabelledSet = {
      n: 6,
      height: 4,
      width: 4,
      channels: 3,
      numClasses: 2,
      images: Uint8Array.from({ length: 6 * 48 }, () => rng.int(256)),
      labels: new Uint8Array(6),
    };
    const r = await experiment.run(
      rgb,
      { testSet: set },
      { ...experiment.params.defaults(rgb), nTest: 6, nSamples: 3 },
    );
    expect(r.test.points).toHaveLength(6);
    expect(r.samples.points.every((q) => q.label === -1)).toBe(true);
    expect(r.samples.thumbnails).toHaveLength(3);
    expect(r.grid).toEqual({ rows: 2, cols: 2 });
    const wrong: LabelledSet = { ...set, channels: 1, images: new Uint8Array(6 * 16) };
    await expect(
      experiment.run(rgb, { testSet: wrong }, { ...experiment.params.defaults(rgb), nTest: 2, nSamples: 0 }),
    ).rejects.toThrow(/4×4×1 images but the model takes 4×4×3/);
  });

  it('parses parameters and prices a run', () => {
    expect(experiment.params.parse({ nTest: '12', T: '1.3' }, model)).toMatchObject({
      nTest: 12,
      T: 1.3,
      nSamples: 32,
      threshold: 3.5,
    });
    expect(() => experiment.params.parse({ nSamples: -1 }, model)).toThrow(/invalid nSamples/);
    expect(() => experiment.params.parse({ s: 0 }, model)).toThrow(/invalid s/);
    expect(experiment.cost(p, model).units).toBe(20 + 5 * 16);
  });
});
