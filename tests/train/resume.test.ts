// An interrupted run that saves and resumes its state ends exactly where the uninterrupted run ends.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyConfig } from '../helpers/tiny';
import { initParams } from '../../src/lib/farmer/params';
import {
  batchAt,
  disposeTrainState,
  newTrainState,
  trainOneStep,
  exportParams,
  type TrainOptions,
  type TrainingData,
} from '../../src/lib/train/loop';
import { analyzeForward, disposeAnalysis, makeModel } from '../../src/lib/farmer/model';
import { decodeTrainState, encodeTrainState } from '../../src/lib/train/state-file';
import { learningRate } from '../../src/lib/train/schedule';
import { forceFlatUpdates } from '../../src/lib/train/flat';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('training', () => {
  const cfg = tinyConfig({ blocks: 2 });
  const rng = new Rng(1);
  const data: TrainingData = {
    n: 40,
    images: Uint8Array.from({ length: 40 * 16 }, () => rng.int(256)),
    labels: Uint8Array.from({ length: 40 }, () => rng.int(3)),
  };
  const options: TrainOptions = {
    steps: 6,
    batch: 4,
    seed: 3,
    lr: 3e-3,
    lrMin: 1e-4,
    warmup: 2,
    weightDecay: 0.03,
    clip: 1,
    ema: 0.9,
  };

  it.each([
    { mode: 'per-tensor moments (wasm, cpu)', flat: false },
    { mode: 'flat moments between checkpoints (GPU backends)', flat: true },
  ])('resumes exactly: weights, AdamW moments and EMA, $mode', async ({ flat }) => {
    forceFlatUpdates(flat);
    const full = newTrainState(initParams(cfg, { seed: 5 }), options);
    const losses: number[] = [];
    for (let i = 0; i < 6; i++) losses.push((await trainOneStep(cfg, full, data, options)).loss);

    const first = newTrainState(initParams(cfg, { seed: 5 }), options);
    for (let i = 0; i < 3; i++) await trainOneStep(cfg, first, data, options);
    const bytes = await encodeTrainState(cfg, options, first);
    disposeTrainState(first);
    const resumed = decodeTrainState(bytes);
    expect(resumed.state.step).toBe(3);
    const resumedLosses: number[] = [];
    for (let i = 0; i < 3; i++)
      resumedLosses.push((await trainOneStep(resumed.config, resumed.state, data, resumed.options)).loss);
    expect(resumedLosses).toEqual(losses.slice(3));
    for (const [name, w] of exportParams(full))
      expect(Array.from(await exportParams(resumed.state).get(name)!.data()), name).toEqual(Array.from(await w.data()));
    for (const [name, v] of full.vars)
      expect(Array.from(await resumed.state.vars.get(name)!.data()), name).toEqual(Array.from(await v.data()));
    expect(losses[5]).toBeLessThan(losses[0]);
    disposeTrainState(full);
    disposeTrainState(resumed.state);
    forceFlatUpdates(null);
  });

  it('logs the loss, the logdet part and the BPD of the batch it trained on, before the update', async () => {
    const o = { ...options, ema: 0 };
    const params = initParams(cfg, { seed: 5 });
    const { x, labels } = batchAt(cfg, data, o, 0);
    const xb = tf.tensor4d(x, [o.batch, 4, 4, 1]);
    const a = analyzeForward(makeModel(cfg, params), xb, labels);
    const [nll, logdet] = [await a.nllPerDim.data(), await a.logdet.data()];
    const mean = (v: ArrayLike<number>) => Array.from(v).reduce((s, u) => s + u, 0) / v.length;
    const state = newTrainState(params, o);
    const line = await trainOneStep(cfg, state, data, o);
    expect(line.loss).toBeCloseTo(mean(nll), 5);
    expect(line.nll_per_dim).toBe(line.loss);
    expect(line.logdet_per_dim).toBeCloseTo(mean(logdet) / 16, 5);
    expect(line.bpd).toBeCloseTo((mean(nll) + Math.log(128)) / Math.log(2), 5);
    disposeAnalysis(a);
    tf.dispose([xb, ...params.values()]);
    disposeTrainState(state);
  });

  it('warm-up rises linearly, then the cosine falls to lrMin', () => {
    const s = { lr: 1, lrMin: 0.1, warmup: 4, steps: 14 };
    expect([0, 1, 2, 3].map((t) => learningRate(s, t))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(learningRate(s, 4)).toBeCloseTo(1, 10);
    expect(learningRate(s, 9)).toBeCloseTo(0.55, 10); // halfway: lrMin + (lr − lrMin)/2
    expect(learningRate(s, 14)).toBeCloseTo(0.1, 10);
  });
});

describe('EMA', () => {
  it('warms up, so the initial weights fade instead of lingering', async () => {
    const { emaDecay } = await import('../../src/lib/train/loop');
    expect(emaDecay(0.999, 0)).toBeCloseTo(0.1, 12);
    expect(emaDecay(0.999, 90)).toBeCloseTo(0.91, 12);
    expect(emaDecay(0.999, 1e6)).toBe(0.999);
    // weight of the initial value after 1600 steps: Π decay_t
    let initial = 1;
    for (let t = 0; t < 1600; t++) initial *= emaDecay(0.999, t);
    expect(initial).toBeLessThan(1e-3);
  });
});
