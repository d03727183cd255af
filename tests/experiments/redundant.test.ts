import * as tf from '@tensorflow/tfjs';
import { JSDOM } from 'jsdom';
import { beforeAll, describe, expect, it } from 'vitest';
import { experiment, type RedundantParams, type RedundantResult } from '../../src/lib/experiments/redundant';
import { describeRows } from '../../src/lib/experiments/redundant/reading';
import { rowScales } from '../../src/lib/experiments/redundant/result';
import { latentAtScale } from '../../src/lib/experiments/redundant/run';
import { makeModel } from '../../src/lib/farmer/model';
import { sample, sampleLatents } from '../../src/lib/farmer/sampling';
import { modelToPixels } from '../../src/lib/data/dequantize';
import { tinyModel } from '../helpers/tiny';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const empty = {
  testSet: {
    n: 0,
    height: 8,
    width: 8,
    channels: 1,
    images: new Uint8Array(0),
    labels: new Uint8Array(0),
    numClasses: 3,
  },
};

describe('redundant-variance experiment', () => {
  const tiny = tinyModel({ size: 8, patch: 2, blocks: 2, numClasses: 3, informative: 1 });
  const model = makeModel(tiny.config, tiny.params);
  const p: RedundantParams = { scales: [0, 0.5, 2], n: 4, T: 1, s: 1, seed: 11 };
  let result: RedundantResult;
  beforeAll(async () => {
    result = await experiment.run(model, empty, p);
  });

  it('the latent on the line between s_R = 0 and 1 is what sampling with that s_R and seed draws', async () => {
    const labels = new Int32Array([0, 1, 2, 0]);
    const o = { n: 4, seed: 11, labels, T: 1, s: 1 };
    const z0 = (await sampleLatents(model, { ...o, sRed: 0 })).z;
    const z1 = (await sampleLatents(model, { ...o, sRed: 1 })).z;
    for (const sRed of [0.5, 2]) {
      const direct = (await sampleLatents(model, { ...o, sRed })).z;
      const line = latentAtScale(z0, z1, sRed, model.dims.tokenDim, model.dims.informative);
      for (let i = 0; i < direct.length; i++) expect(line[i]).toBeCloseTo(direct[i], 5);
    }
  });

  it('each row holds the pixels of `sample` at that s_R; the reference row scores 1 against itself', async () => {
    expect(result.rows.map((q) => q.scale)).toEqual([0, 0.5, 1, 2]);
    const { height: H, width: W } = result.image;
    expect(result.grid).toMatchObject({ width: 4 * (W + 1) - 1, height: 4 * (H + 1) - 1 });
    const direct = await sample(model, { n: 4, seed: 11, labels: new Int32Array([0, 1, 2, 0]), T: 1, s: 1, sRed: 2 });
    const want = modelToPixels(await direct.images.data(), model.config.dequantization);
    tf.dispose([direct.images, direct.z]);
    const row = 3; // s_R = 2
    for (let c = 0; c < 4; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const got = result.pixels[((row * 4 + c) * H + y) * W + x];
          expect(Math.abs(got - want[(c * H + y) * W + x])).toBeLessThanOrEqual(1);
        }
    const ref = result.rows.find((q) => q.scale === 1)!;
    expect(ref.finite).toEqual([true, true, true, true]);
    expect(ref.ssim).toBeCloseTo(1, 10);
    expect(ref.edge).toBeCloseTo(1, 10);
    expect(ref.colour).toBeNull(); // gray model
    expect(result.labels).toEqual([0, 1, 2, 0]);
  });

  it('builds its figures in jsdom and exports every row', () => {
    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    const figs = [...experiment.figures(result, p, doc)];
    expect(figs.map((f) => f.name)).toEqual(['grid', 'structure']);
    expect(figs[0].node.textContent).toContain('s_R = 1 ◂');
    const json = experiment.toJSON(result, p) as { rows: { scale: number }[]; reading: string[] };
    expect(json.rows.map((q) => q.scale)).toEqual([0, 0.5, 1, 2]);
    expect(json.reading).toEqual(describeRows(result));
  });

  it('parses scales (sorted, unique, with the reference added for the run) and refuses what it cannot do', () => {
    const scales = (text: string) => experiment.params.parse({ scales: text }, model).scales;
    expect(scales(' 2, 0,0.4,2 ')).toEqual([0, 0.4, 2]);
    expect(rowScales([0, 4])).toEqual([0, 1, 4]);
    expect(() => scales('0,-1')).toThrow(/invalid scales/);
    expect(() => scales('')).toThrow(/invalid scales/);
    expect(() => experiment.params.parse({ n: 0 }, model)).toThrow(/invalid n/);
    const gaussian = tinyModel({ prior: 'gaussian', size: 4 });
    expect(() => experiment.params.parse({}, makeModel(gaussian.config, gaussian.params))).toThrow(
      /Gaussian prior \(TARFlow\) has no redundant group/,
    );
  });
});
