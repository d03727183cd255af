// Data-parallel training (`farmer train --workers N`): the shards' averaged gradient is the whole
// batch's gradient, and steps taken with a worker thread end where the single-thread steps end.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyConfig } from '../helpers/tiny';
import { initParams } from '../../src/lib/farmer/params';
import { lossTerms, makeModel } from '../../src/lib/farmer/model';
import {
  batchAt,
  disposeTrainState,
  newTrainState,
  trainOneStep,
  type TrainOptions,
  type TrainingData,
} from '../../src/lib/train/loop';
import {
  combineShards,
  flatWeights,
  shardGradients,
  shardSizes,
  splitBatch,
  type GradientHelpers,
} from '../../src/lib/train/data-parallel';
import { gradientsOf, toVariables } from '../../src/lib/train/step';
import { startGradientThreads } from '../../src/node/train-workers';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const cfg = tinyConfig({ blocks: 2, dequantization: { kind: 'gaussian', sigma_max: 0.1, sigma_min: 0.1 } });
const rng = new Rng(7);
const data: TrainingData = {
  n: 40,
  images: Uint8Array.from({ length: 40 * 16 }, () => rng.int(256)),
  labels: Uint8Array.from({ length: 40 }, () => rng.int(3)),
};
const options: TrainOptions = {
  steps: 5,
  batch: 7,
  seed: 11,
  lr: 3e-3,
  lrMin: 1e-4,
  warmup: 2,
  weightDecay: 0.03,
  clip: 0.5,
  ema: 0.9,
};

describe('shards', () => {
  it('cut a batch into near-equal parts, larger first, in order', () => {
    expect(shardSizes(7, 2)).toEqual([4, 3]);
    expect(shardSizes(8, 3)).toEqual([3, 3, 2]);
    expect(() => shardSizes(2, 3)).toThrow(/cannot split a batch of 2 into 3 shards/);
    const x = Float32Array.from({ length: 7 * 2 }, (_, i) => i);
    const parts = splitBatch(x, Int32Array.from([0, 1, 2, 3, 4, 5, 6]), [4, 3], 2);
    expect(parts.map((p) => [...p.x])).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7],
      [8, 9, 10, 11, 12, 13],
    ]);
    expect(parts.map((p) => [...p.labels!])).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('average to the whole batch gradient (autodiff on the batch)', async () => {
    const vars = toVariables(initParams(cfg, { seed: 2 }));
    const { x, labels } = batchAt(cfg, data, options, 0);
    const xb = tf.tensor4d(x, [options.batch, 4, 4, 1]);
    const model = makeModel(cfg, vars);
    const whole = gradientsOf(vars, () => lossTerms(model, xb, labels).loss);
    const shards = await Promise.all(
      splitBatch(x, labels, shardSizes(options.batch, 3), 16).map((s) => shardGradients(cfg, vars, s)),
    );
    const combined = combineShards(vars, shards);
    expect(combined.loss).toBeCloseTo((await whole.value.data())[0], 5);
    expect([...combined.grads.keys()]).toEqual([...whole.grads.keys()]);
    let maxErr = 0,
      maxAbs = 0;
    for (const [name, g] of whole.grads) {
      const a = await g.data(),
        b = await combined.grads.get(name)!.data();
      for (let i = 0; i < a.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
        maxAbs = Math.max(maxAbs, Math.abs(a[i]));
      }
    }
    expect(maxAbs).toBeGreaterThan(1e-3);
    expect(maxErr).toBeLessThan(1e-5 * Math.max(1, maxAbs));
    tf.dispose([xb, whole.value, ...whole.grads.values(), ...combined.grads.values(), ...vars.values()]);
  });
});

describe('worker threads', () => {
  let helpers: GradientHelpers;
  beforeAll(async () => {
    helpers = await startGradientThreads(2, cfg, 'cpu');
  });
  afterAll(async () => {
    await helpers?.dispose();
  });

  it('train to the same weights, EMA and log as one thread', async () => {
    const one = newTrainState(initParams(cfg, { seed: 4 }), options);
    const three = newTrainState(initParams(cfg, { seed: 4 }), options);
    let before = 0;
    for (let t = 0; t < options.steps; t++) {
      if (t === 1) before = tf.memory().numTensors; // after the first step made the AdamW moments
      const a = await trainOneStep(cfg, one, data, options);
      const b = await trainOneStep(cfg, three, data, options, helpers);
      expect(b.loss).toBeCloseTo(a.loss, 5);
      expect(b.grad_norm).toBeCloseTo(a.grad_norm, 4);
      expect(b.logdet_per_dim).toBeCloseTo(a.logdet_per_dim, 5);
      expect(b.skipped).toBe(a.skipped);
    }
    expect(tf.memory().numTensors).toBe(before); // later steps leave nothing behind
    const wa = flatWeights(one.vars),
      wb = flatWeights(three.vars);
    let maxErr = 0;
    for (let i = 0; i < wa.length; i++) maxErr = Math.max(maxErr, Math.abs(wa[i] - wb[i]));
    expect(maxErr).toBeLessThan(1e-5);
    const init = flatWeights(toVariables(initParams(cfg, { seed: 4 })));
    expect(Math.max(...wa.map((v, i) => Math.abs(v - init[i])))).toBeGreaterThan(1e-3); // they did train
    for (const [n, e] of one.ema!) {
      const d = tf.tidy(() => e.sub(three.ema!.get(n)!).abs().max().dataSync()[0]);
      expect(d).toBeLessThan(1e-5);
    }
    disposeTrainState(one);
    disposeTrainState(three);
  });

  it('report a thread failure as an error, and refuse a wrong number of shards', async () => {
    await expect(
      helpers.gradients(new Float32Array(3), [
        { n: 1, x: new Float32Array(16), labels: null },
        { n: 1, x: new Float32Array(16), labels: null },
      ]),
    ).rejects.toThrow(/training worker \d: weights: 3 values for \d+ parameters/);
    expect(() => helpers.gradients(new Float32Array(3), [])).toThrow(/0 shards for 2 training workers/);
  });
});
