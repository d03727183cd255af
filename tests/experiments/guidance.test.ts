// The guidance experiment (Algorithm 1 against naive CFG) on a tiny random 8×8 model, a tiny
// random feature network and a synthetic test set; every number is recomputed through the engine's
// own sampling and the metrics module.
import * as tf from '@tensorflow/tfjs';
import { JSDOM } from 'jsdom';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { experiment, type GuidanceParams, type GuidanceResult } from '../../src/lib/experiments/guidance';
import { describeRows } from '../../src/lib/experiments/guidance/reading';
import { planRows } from '../../src/lib/experiments/guidance/result';
import { cyclingLabels } from '../../src/lib/farmer/labels';
import { modelToPixels } from '../../src/lib/data/dequantize';
import type { LabelledSet } from '../../src/lib/data/binfile';
import { createClassifier, FEATURE_DIM } from '../../src/lib/metrics/classifier';
import { computeFeatures, type FeatureNet } from '../../src/lib/metrics/features';
import { featureStats, frechetDistance } from '../../src/lib/metrics/fid';
import { inceptionScore } from '../../src/lib/metrics/inception';
import { sample, type CfgMethod } from '../../src/lib/farmer/sampling';
import { makeModel, type FarmerModel } from '../../src/lib/farmer/model';
import { Rng } from '../../src/lib/util/random';
import { tinyModel } from '../helpers/tiny';

let model: FarmerModel;
let net: FeatureNet;
let testSet: LabelledSet;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = tinyModel({ size: 8, patch: 2 }); // 3 classes, FARMER prior, 16 tokens of 4 dims
  net = {
    classifier: createClassifier({ height: 8, width: 8, channels: 1, heads: { digit: 3 } }, new Rng(11)),
    card: { dataset: 'tiny' },
  };
  const rng = new Rng(12),
    n = 24;
  testSet = {
    n,
    height: 8,
    width: 8,
    channels: 1,
    numClasses: 3,
    images: Uint8Array.from({ length: n * 64 }, () => rng.int(256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
  };
});

const N = 6,
  BATCH = 4;
function params(over: Record<string, unknown> = {}): GuidanceParams {
  return experiment.params.parse({ weights: '1.5,0', n: N, keep: 3, batch: BATCH, seed: 5, ...over }, model);
}

/** The engine's samples of one setting, batch by batch as the run draws them: pixels, finiteness, fallbacks. */
async function direct(method: 'none' | CfgMethod, w: number) {
  const pixels: number[] = [],
    finite: boolean[] = [];
  let fallbacks = 0;
  for (let start = 0; start < N; start += BATCH) {
    const count = Math.min(BATCH, N - start);
    const r = await sample(model, {
      n: count,
      seed: 5,
      first: start,
      labels: cyclingLabels(count, 3, start),
      cfg: method === 'none' ? undefined : { method, w },
    });
    pixels.push(...modelToPixels((await r.images.data()) as Float32Array, model.config.dequantization));
    finite.push(...r.finite);
    fallbacks += r.cfgFallbacks;
    tf.dispose([r.images, r.z]);
  }
  return { pixels: Uint8Array.from(pixels), finite, fallbacks };
}

describe('guidance experiment', () => {
  let result: GuidanceResult;
  const partials: GuidanceResult[] = [];
  const progress: [number, number][] = [];
  beforeAll(async () => {
    result = await experiment.run(model, { testSet, featureNet: net }, params(), {
      onPartial: (x) => partials.push(structuredClone(x as GuidanceResult)),
      onProgress: (done, total) => progress.push([done, total]),
    });
  });

  it('plans unguided once, then each method at each w > 0, and fills the rows in that order', () => {
    expect(result.plan).toEqual([
      { method: 'none', w: 0 },
      { method: 'naive', w: 1.5 },
      { method: 'resampling', w: 1.5 },
    ]);
    expect(partials.map((p) => p.rows.map((q) => (q ? 'x' : '-')).join(''))).toEqual(['---', 'x--', 'xx-', 'xxx']);
    expect(partials.at(-1)).toEqual(result);
    expect(progress.at(-1)).toEqual([(1 + 2 + 2) * N, (1 + 2 + 2) * N]);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
    expect(planRows(params({ methods: 'resampling', weights: '2,1' }))).toEqual([
      { method: 'resampling', w: 1 },
      { method: 'resampling', w: 2 },
    ]);
  });

  it("scores each row as the engine's samples and the metrics module give them", async () => {
    const real = await computeFeatures(net, testSet.images.subarray(0, N * 64), N);
    const realStats = featureStats(real.features, N, FEATURE_DIM);
    for (const row of result.rows.map((q) => q!)) {
      const d = await direct(row.method, row.w);
      const rows = d.finite.flatMap((ok, i) => (ok ? [i] : []));
      expect(row.finite).toBe(rows.length);
      expect(row.nonFinite).toBe(N - rows.length);
      expect(row.fallbacks).toBe(d.fallbacks);
      expect(row.guidedDims).toBe(row.method === 'naive' ? N * 16 * 4 : 0);
      const fake = Uint8Array.from(rows.flatMap((i) => Array.from(d.pixels.subarray(i * 64, (i + 1) * 64))));
      const f = await computeFeatures(net, fake, rows.length);
      expect(row.fid).toBeCloseTo(frechetDistance(realStats, featureStats(f.features, rows.length, FEATURE_DIM)), 8);
      expect(row.is).toBeCloseTo(inceptionScore(f.probs.digit, rows.length, 3).mean, 10);
      // class agreement: a plain argmax loop against label i mod 3
      let hits = 0;
      rows.forEach((i, j) => {
        const p = Array.from(f.probs.digit.subarray(j * 3, j * 3 + 3));
        if (p.indexOf(Math.max(...p)) === i % 3) hits++;
      });
      expect(row.accuracy).toBeCloseTo(hits / rows.length, 12);
      // the strip: the first `keep` samples, 8 × 8 px, 1 px apart, in column order
      const png = decode(Buffer.from(row.picture!.href.replace('data:image/png;base64,', ''), 'base64'));
      expect([png.width, png.height]).toEqual([3 * 9 + 1, 10]);
      const tiles: number[] = [];
      for (let i = 0; i < 3; i++)
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) tiles.push(png.data[((1 + y) * png.width + 1 + i * 9 + x) * png.channels]);
      expect(tiles).toEqual(Array.from(d.pixels.subarray(0, 3 * 64)));
    }
    // guidance changes the samples; the naive and resampling rows differ from each other
    const [none, naive, resampling] = result.rows.map((q) => q!.picture!.href);
    expect(new Set([none, naive, resampling]).size).toBe(3);
  });

  it('gives the same numbers for the same seed and leaves no tensor behind', async () => {
    const tensors = tf.memory().numTensors;
    const again = await experiment.run(model, { testSet, featureNet: net }, params());
    expect(tf.memory().numTensors).toBe(tensors);
    const strip = (r: GuidanceResult) => r.rows.map((q) => ({ ...q!, seconds: 0 }));
    expect(strip(again)).toEqual(strip(result));
  });

  it('builds its figures in jsdom, exports every row and reads them', () => {
    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    const p = params();
    const figs = [...experiment.figures(result, p, doc)];
    expect(figs.map((f) => f.name)).toEqual(['samples', 'fid', 'is', 'accuracy']);
    const texts = [...figs[0].node.querySelectorAll('text')].map((t) => t.textContent);
    expect(texts).toEqual(
      expect.arrayContaining(['y = 0', 'y = 1', 'y = 2', 'unguided', 'naive w = 1.5', 'resampling w = 1.5']),
    );
    expect(figs[0].node.querySelectorAll('image').length).toBe(3);
    // a partial result draws its missing rows as such
    const first = [...experiment.figures(partials[1], p, doc)][0].node.textContent;
    expect(first).toContain('not computed yet');
    const json = experiment.toJSON(result, p) as {
      rows: { method: string; w: number; class_agreement: number | null }[];
      reading: string[];
      fid_label: string;
    };
    expect(json.rows.map((q) => `${q.method}@${q.w}`)).toEqual(['none@0', 'naive@1.5', 'resampling@1.5']);
    expect(json.fid_label).toBe('FID (tiny-cnn features, not Inception)');
    expect(json.reading).toEqual(describeRows(result));
    expect(json.reading[0]).toMatch(/^Unguided: FID \d/);
    expect(json.reading.join(' ')).toMatch(/Naive CFG fell back to the conditional draw in \d+ of 384 dimensions/);
  });

  it('refuses what it cannot do with one clear message', async () => {
    expect(params({ weights: ' 2, 0,1,2 ' }).weights).toEqual([0, 1, 2]);
    expect(() => params({ weights: '1,-1' })).toThrow(/invalid weights/);
    expect(() => params({ weights: '' })).toThrow(/invalid weights/);
    expect(() => params({ methods: 'both-ish' })).toThrow(/invalid methods/);
    expect(() => params({ n: 1 })).toThrow(/invalid n/);
    const gaussian = tinyModel({ prior: 'gaussian', size: 8 });
    expect(() => experiment.params.parse({}, makeModel(gaussian.config, gaussian.params))).toThrow(
      /Gaussian prior \(TARFlow\) has none/,
    );
    const unconditional = tinyModel({ size: 8, numClasses: 0 });
    expect(() => experiment.params.parse({}, unconditional)).toThrow(/no class labels/);
    await expect(experiment.run(model, { testSet }, params())).rejects.toThrow(/feature network/);
    await expect(experiment.run(model, { testSet, featureNet: net }, params({ n: 30 }))).rejects.toThrow(
      /more than the 24 test images/,
    );
    const controller = new AbortController();
    controller.abort();
    await expect(
      experiment.run(model, { testSet, featureNet: net }, params(), { signal: controller.signal }),
    ).rejects.toThrow(/cancel/);
  });
});
