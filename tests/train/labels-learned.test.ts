// Training uses the label: on data where the class fixes the image's brightness, a tiny
// class-conditional FARMER trained briefly gives its training images a higher likelihood under
// their own label than under the other labels and than under the null label (which has to cover
// all classes), as the joint p(x, y) requires.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyConfig } from '../helpers/tiny';
import { initParams } from '../../src/lib/farmer/params';
import { analyzeForward, disposeAnalysis, makeModel } from '../../src/lib/farmer/model';
import { NULL_LABEL } from '../../src/lib/farmer/labels';
import { dequantizeUniform } from '../../src/lib/data/dequantize';
import {
  disposeTrainState,
  exportParams,
  newTrainState,
  trainOneStep,
  type TrainOptions,
  type TrainingData,
} from '../../src/lib/train/loop';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('conditional training', () => {
  it('learns log p(x | y_true) > log p(x | y_other) and > log p(x | null)', async () => {
    const cfg = tinyConfig({ numClasses: 3, blocks: 2 });
    const rng = new Rng(2),
      n = 60,
      D = 16;
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);
    const images = new Uint8Array(n * D);
    for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) images[i * D + j] = 40 + 80 * labels[i] + rng.int(24);
    const data: TrainingData = { n, images, labels };
    const options: TrainOptions = {
      steps: 150,
      batch: 16,
      seed: 1,
      lr: 3e-3,
      lrMin: 3e-4,
      warmup: 10,
      weightDecay: 0,
      clip: 1,
      ema: 0,
    };
    const state = newTrainState(initParams(cfg, { seed: 4 }), options);
    for (let t = 0; t < options.steps; t++) await trainOneStep(cfg, state, data, options);
    const model = makeModel(cfg, exportParams(state));
    const x = tf.tensor4d(dequantizeUniform(images, new Rng(9)), [n, 4, 4, 1]);
    const nll: Float32Array[] = []; // [label 0, 1, 2, null][image]
    for (const y of [0, 1, 2, NULL_LABEL]) {
      const a = analyzeForward(model, x, new Int32Array(n).fill(y));
      nll.push((await a.nllPerDim.data()) as Float32Array);
      disposeAnalysis(a);
    }
    x.dispose();
    let correct = 0,
      gainOverNull = 0;
    for (let i = 0; i < n; i++) {
      const own = nll[labels[i]][i];
      if ([0, 1, 2].every((y) => y === labels[i] || nll[y][i] > own)) correct++;
      gainOverNull += (nll[3][i] - own) * D;
    }
    expect(correct / n).toBeGreaterThan(0.9);
    expect(gainOverNull / n).toBeGreaterThan(0); // nats per image; log 3 ≈ 1.1 for a coherent model
    disposeTrainState(state);
  }, 120_000);
});
