// The distillation loop in process: only af.* weights train, steps hold no tensors, the batch of
// step t depends on (seed, t) alone, and the student file's weights are the student AF + teacher prior.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyModel } from '../helpers/tiny';
import { disposeTrainState } from '../../src/lib/train/loop';
import { distillBatch, distillOneStep, newDistillState, studentModelParams } from '../../src/lib/train/distill-loop';
import { stepRng } from '../../src/lib/train/loop';
import { defaultDistillOptions } from '../../src/lib/train/distill-loop';
import { paramShapes } from '../../src/lib/farmer/params';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('distillation loop', () => {
  const teacher = tinyModel({ blocks: 2, classConditionalAf: true });
  const rng = new Rng(0);
  const data = {
    n: 20,
    images: Uint8Array.from({ length: 20 * 16 }, () => rng.int(256)),
    labels: Int32Array.from({ length: 20 }, (_, i) => i % 3),
  };
  const o = { ...defaultDistillOptions, batch: 4, steps: 5, lr: 1e-3, warmup: 1, ema: 0.9 };

  it('trains the af.* weights only, without leaking tensors, and reports each step', async () => {
    const state = newDistillState(teacher, o);
    expect([...state.vars.keys()].every((n) => n.startsWith('af.'))).toBe(true);
    const lines = [await distillOneStep(teacher, state, data, o)];
    const held = tf.memory().numTensors;
    lines.push(await distillOneStep(teacher, state, data, o));
    lines.push(await distillOneStep(teacher, state, data, o));
    expect(tf.memory().numTensors).toBe(held);
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3]);
    for (const l of lines) expect(Number.isFinite(l.loss) && !l.skipped).toBe(true);

    const { config, params } = studentModelParams(teacher, state);
    expect(config.student).toBe(true);
    expect([...params.keys()].sort()).toEqual([...paramShapes(config).keys()].sort());
    expect(params.get('ar.norm.weight')).toBe(teacher.params.get('ar.norm.weight'));
    expect(params.get('af.blocks.0.proj_in.weight')).toBe(state.ema!.get('af.blocks.0.proj_in.weight'));
    disposeTrainState(state);
  });

  it('draws the batch of step t from (seed, t) alone', () => {
    const a = distillBatch(teacher.config, data, 4, stepRng(o, 7));
    const b = distillBatch(teacher.config, data, 4, stepRng(o, 7));
    const c = distillBatch(teacher.config, data, 4, stepRng(o, 8));
    expect(a).toEqual(b);
    expect(a.x).not.toEqual(c.x);
    expect(a.labels).toHaveLength(4); // a class-conditional AF sees (dropped-out) labels
  });
});
