// Long sessions must not grow tf.memory(): a forward pass, a sample, a training step and a
// distillation step each leave the tensor count where it was.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyModel, randomImages } from '../helpers/tiny';
import { analyzeForward, disposeAnalysis, makeModel, trainingLoss, decodeLatents } from '../../src/lib/farmer/model';
import { sample } from '../../src/lib/farmer/sampling';
import { toVariables, trainStep } from '../../src/lib/train/step';
import { AdamW } from '../../src/lib/train/adamw';
import { distillationLoss, initStudentParams, studentConfig } from '../../src/lib/farmer/distill';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function tensorDelta(fn: () => Promise<void>): Promise<number> {
  await fn(); // first call may create lazily cached tensors
  const before = tf.memory().numTensors;
  await fn();
  await fn();
  return tf.memory().numTensors - before;
}

describe('no tensor leaks', () => {
  const m = tinyModel({ blocks: 3, classConditionalAf: true });
  const labels = new Int32Array([0, 1, -1]);

  it('forward analysis', async () => {
    const x = randomImages(m.config, 3);
    expect(await tensorDelta(async () => disposeAnalysis(analyzeForward(m, x, labels, true)))).toBe(0);
  });

  it('sampling: unguided, naive and resampling CFG, and the uncached inverse', async () => {
    for (const cfg of [undefined, { method: 'naive' as const, w: 1 }, { method: 'resampling' as const, w: 2.5 }])
      expect(
        await tensorDelta(async () => {
          const r = await sample(m, { n: 2, seed: 1, labels: new Int32Array([0, 2]), cfg });
          tf.dispose([r.images, r.z]);
        }),
      ).toBe(0);
    const z = tf.tensor3d(new Rng(1).normals(2 * 4 * 4), [2, 4, 4]);
    expect(await tensorDelta(async () => decodeLatents(m, z, { cached: false }).dispose())).toBe(0);
  });

  it('a training step (AdamW state is allocated on the first step only)', async () => {
    const vars = toVariables(m.params);
    const trainable = makeModel(m.config, vars);
    const opt = new AdamW({ weightDecay: 0.1 });
    const x = randomImages(m.config, 3);
    expect(
      await tensorDelta(async () => {
        await trainStep(vars, () => trainingLoss(trainable, x, labels), opt, 1e-3);
      }),
    ).toBe(0);
  });

  it('a distillation step', async () => {
    const student = toVariables(initStudentParams(m.params));
    const opt = new AdamW();
    const x = randomImages(m.config, 3);
    const rng = new Rng(2);
    const cfg = studentConfig(m.config);
    expect(cfg.student).toBe(true);
    expect(
      await tensorDelta(async () => {
        await trainStep(student, () => distillationLoss(m, student, x, labels, rng), opt, 1e-3);
      }),
    ).toBe(0);
  });
});
