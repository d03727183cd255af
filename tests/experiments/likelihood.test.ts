import * as tf from '@tensorflow/tfjs';
import { JSDOM } from 'jsdom';
import { beforeAll, describe, expect, it } from 'vitest';
import { experiment, type LikelihoodParams, type LikelihoodResult } from '../../src/lib/experiments/likelihood';
import { describeAgainstBaseline } from '../../src/lib/experiments/likelihood/reading';
import { classBits, summarize } from '../../src/lib/experiments/likelihood/result';
import { bitsPerDim, makeModel, nllPerDim } from '../../src/lib/farmer/model';
import { dequantizeUniform } from '../../src/lib/data/dequantize';
import { histogramBaseline } from '../../src/lib/metrics/histogram-baseline';
import type { LabelledSet } from '../../src/lib/data/binfile';
import { Rng } from '../../src/lib/util/random';
import { tinyModel } from '../helpers/tiny';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function tinySet(n: number, size: number, channels: number, numClasses: number, seed = 5): LabelledSet {
  const rng = new Rng(seed);
  const images = Uint8Array.from({ length: n * size * size * channels }, () =>
    rng.uniform() < 0.2 ? 255 : rng.int(30),
  );
  return {
    n,
    height: size,
    width: size,
    channels,
    images,
    labels: Uint8Array.from({ length: n }, (_, i) => i % numClasses),
    numClasses,
  };
}

/** BPD of each image by the plain objective (afForward + log p(Z), no per-token split): an independent path. */
async function directBpd(
  model: ReturnType<typeof tinyModel>,
  set: LabelledSet,
  n: number,
  seed: number,
  labels: Int32Array | null,
): Promise<number[]> {
  const { height: H, width: W, channels: C } = set;
  const x = tf.tensor4d(dequantizeUniform(set.images.subarray(0, n * H * W * C), new Rng(seed)), [n, H, W, C]);
  const nll = nllPerDim(model, x, labels);
  const out = Array.from(await nll.data(), bitsPerDim);
  tf.dispose([x, nll]);
  return out;
}

describe('likelihood experiment on tiny random checkpoints', () => {
  const model = tinyModel({ size: 8, patch: 2, blocks: 3, numClasses: 3 });
  const set = tinySet(30, 8, 1, 3);
  const p: LikelihoodParams = { n: 20, seed: 4, conditional: false };
  let result: LikelihoodResult;
  const partials: unknown[] = [];

  beforeAll(async () => {
    const m = makeModel(model.config, model.params);
    result = await experiment.run(m, { testSet: set }, p, { onPartial: (r) => partials.push(r) });
  });

  it('per-image BPD equals the model objective, and its parts add up to it', async () => {
    const expected = await directBpd(model, set, 20, 4, null);
    expect(result.images).toHaveLength(20);
    for (const b of result.images) {
      expect(b.bpd).toBeCloseTo(expected[b.index], 4);
      expect(7 + b.priorInformative + b.priorRedundant + b.flow).toBeCloseTo(b.bpd, 10);
      expect(b.label).toBe(set.labels[b.index]);
    }
    const mean = expected.reduce((s, v) => s + v, 0) / 20;
    expect(result.summary.bpd).toBeCloseTo(mean, 4);
  });

  it('the per-patch map averages back to the mean BPD, part by part', () => {
    const { total, prior, flow } = result.perToken;
    const N = model.dims.tokens;
    expect(total).toHaveLength(N);
    const avg = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / N;
    expect(avg(total)).toBeCloseTo(result.summary.bpd, 4);
    expect(avg(prior)).toBeCloseTo(result.summary.priorInformative + result.summary.priorRedundant, 4);
    expect(avg(flow)).toBeCloseTo(result.summary.flow, 4);
  });

  it('conditioning on the test label gives log p(x | y)', async () => {
    const m = makeModel(model.config, model.params);
    const r = await experiment.run(m, { testSet: set }, { ...p, n: 6, conditional: true });
    const expected = await directBpd(model, set, 6, 4, Int32Array.from(set.labels.subarray(0, 6)));
    r.images.forEach((b) => expect(b.bpd).toBeCloseTo(expected[b.index], 4));
  });

  it('fits the histogram baselines on the test images after the first n', () => {
    const expected = histogramBaseline(set.images.subarray(20 * 64), 10, set.images, 20, 64);
    expect(result.baseline).toEqual(expected);
    expect(describeAgainstBaseline(result)).toMatch(
      /^Mean test BPD \d+\.\d{3} ± \d+\.\d{3} \(95% interval\) over 20 images, (above|below) the/,
    );
  });

  it('summaries: a normal 95% interval, and per-class means', () => {
    const images = [2, 4, 6].map((bpd, i) => ({
      index: i,
      label: i % 2,
      bpd,
      priorInformative: 0,
      priorRedundant: 0,
      flow: 0,
    }));
    const s = summarize(images);
    expect(s.bpd).toBe(4);
    expect(s.ci95).toBeCloseTo(1.96 * Math.sqrt(4 / 3), 12); // sample variance 4
    expect(classBits(images)).toEqual([
      { label: 0, n: 2, mean: 4, ci95: 1.96 * Math.sqrt(8 / 2) },
      { label: 1, n: 1, mean: 4, ci95: NaN },
    ]);
  });

  it('builds its four figures in jsdom; the JSON carries the split', () => {
    expect(partials).toEqual([]); // one forward batch holds 784 images of 8×8: nothing partial to send
    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    const figs = [...experiment.figures(result, p, doc)];
    expect(figs.map((f) => f.name)).toEqual(['bpd-histogram', 'bpd-terms', 'bits-map', 'bpd-by-class']);
    const json = experiment.toJSON(result, p) as {
      summary: { terms_bits_per_dim: Record<string, number> };
      images: unknown[];
      per_token: { total: number[] };
    };
    expect(json.summary.terms_bits_per_dim.scale_log2_128).toBe(7);
    expect(json.images).toHaveLength(20);
    expect(json.per_token.total).toHaveLength(model.dims.tokens);
  });

  it('a Gaussian-prior RGB model has no informative term; bad parameters and students are refused', async () => {
    const rgb = tinyModel({ prior: 'gaussian', channels: 3, size: 4, numClasses: 0 });
    const m = makeModel(rgb.config, rgb.params);
    const r = await experiment.run(m, { testSet: tinySet(5, 4, 3, 2) }, { n: 5, seed: 0, conditional: false });
    expect(r.summary.priorInformative).toBe(0);
    expect(r.baseline).toBeNull();
    expect(() => experiment.params.parse({ conditional: true }, m)).toThrow(
      /invalid conditional: this model is unconditional/,
    );
    expect(() => experiment.params.parse({ n: 0 }, m)).toThrow(/invalid n/);
    const student = makeModel({ ...rgb.config, student: true }, rgb.params);
    expect(() => experiment.params.parse({}, student)).toThrow(/distilled student has none/);
  });
});
