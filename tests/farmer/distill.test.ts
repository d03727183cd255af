// Algorithm 2: the bidirectional student starts from the teacher, keeps token 0 exact, and
// learns to invert the teacher's blocks in one pass.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyModel, randomImages } from '../helpers/tiny';
import { afForward } from '../../src/lib/farmer/af';
import { patchify } from '../../src/lib/farmer/patchify';
import { distillationLoss, initStudentParams, studentBlock, studentInverse } from '../../src/lib/farmer/distill';
import { toVariables, trainStep } from '../../src/lib/train/step';
import { AdamW } from '../../src/lib/train/adamw';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('one-step distillation', () => {
  const teacher = tinyModel({ blocks: 2 });

  it('keeps the first token of each block exact and reads every token bidirectionally', async () => {
    const z = patchify(randomImages(teacher.config, 1, 3), 2);
    const x = await studentBlock(teacher.params, teacher.config, 0, z).data();
    const zd = await z.data();
    for (let j = 0; j < 4; j++) expect(x[j]).toBeCloseTo(zd[j], 6); // token 0, block 0 (identity order)
    // bidirectional: changing the last token changes an earlier one
    const bumped = z.add(tf.oneHot([3], 4).reshape([1, 4, 1]).mul(0.5)) as tf.Tensor3D;
    const y = await studentBlock(teacher.params, teacher.config, 0, bumped).data();
    expect(Math.max(...Array.from({ length: 4 }, (_, j) => Math.abs(y[4 + j] - x[4 + j])))).toBeGreaterThan(1e-5);
  });

  it('training lowers the Algorithm 2 loss on fixed noise draws', async () => {
    const x = randomImages(teacher.config, 16, 5);
    const student = toVariables(initStudentParams(teacher.params));
    const evaluate = async () => {
      const rng = new Rng(123); // the same s and ε every time
      let total = 0;
      for (let i = 0; i < 8; i++) {
        const l = distillationLoss(teacher, student, x, null, rng);
        total += (await l.data())[0];
        l.dispose();
      }
      return total / 8;
    };
    const before = await evaluate();
    const opt = new AdamW();
    const rng = new Rng(9);
    for (let i = 0; i < 40; i++)
      await trainStep(student, () => distillationLoss(teacher, student, x, null, rng), opt, 1e-3);
    const after = await evaluate();
    expect(before).toBeGreaterThan(0);
    expect(after).toBeLessThan(before * 0.7);
  });
});
