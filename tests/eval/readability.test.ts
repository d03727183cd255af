// The readability figures `farmer eval` adds beside FID and IS: the share of samples the feature
// network classifies confidently, and (conditional models) the share read as the class asked for.
// Checked against a slow loop over the same samples' class probabilities and a closed form.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyModel } from '../helpers/tiny';
import { loadDataset } from '../../src/node/datasets';
import { createClassifier } from '../../src/lib/metrics/classifier';
import { computeFeatures, type FeatureNet } from '../../src/lib/metrics/features';
import { confidentClasses, confidentShare } from '../../src/lib/metrics/evaluate';
import { evaluateModel, samplePixels } from '../../src/lib/metrics/evaluate-model';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function topOf(probs: Float32Array, i: number, k: number): { arg: number; p: number } {
  let arg = 0;
  for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + arg]) arg = j;
  return { arg, p: probs[i * k + arg] };
}

describe('readability of samples', () => {
  it('confidentShare counts rows whose top probability reaches the threshold', () => {
    const probs = Float32Array.from([0.9375, 0.0625, 0.5, 0.5, 0.25, 0.75, 0.625, 0.375]); // exact in float32
    expect(confidentShare(probs, 2, 0.75)).toBe(2 / 4);
    expect(confidentShare(probs, 2, 0.5)).toBe(1);
    expect(confidentShare(probs, 2, 0.96)).toBe(0);
  });

  it('confidentClasses counts the confident rows by their top class', () => {
    const probs = Float32Array.from([0.9375, 0.0625, 0.5, 0.5, 0.25, 0.75, 0.125, 0.875]);
    expect(confidentClasses(probs, 2, 0.75)).toEqual([1, 2]);
    expect(confidentClasses(probs, 2, 0.9)).toEqual([1, 0]);
    expect(confidentClasses(probs, 2, 0.99)).toEqual([0, 0]);
  });

  it('evaluateModel reports the confident share and class agreement of the finite samples it drew', async () => {
    const model = tinyModel({ size: 28, patch: 7, numClasses: 10, informative: 4 }, 3);
    const classifier = createClassifier({ height: 28, width: 28, channels: 1, heads: { digit: 10 } }, new Rng(5));
    const net: FeatureNet = { classifier, card: { dataset: 'testnet' } };
    const test = loadDataset('mnist', 'test');
    const n = 40;
    const o = { n, seed: 4, batch: 16, is: true };
    const r = await evaluateModel(model, test, net, { ...o, featureName: 'testnet-cnn' });
    const { pixels, labels, report } = await samplePixels(model, o);
    const k = 10,
      m = report.finite;
    const fake = (await computeFeatures(net, pixels, m)).probs.digit;
    const real = (await computeFeatures(net, test.images.subarray(0, n * 784), n)).probs.digit;
    let agree = 0,
      confident = 0,
      confidentReal = 0,
      kept = 0;
    const classes = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) {
      if (report.non_finite_indices.includes(i)) continue;
      const top = topOf(fake, kept, k);
      if (top.arg === i % k) agree++;
      if (top.p >= 0.9) {
        confident++;
        classes[top.arg]++;
      }
      expect(labels![kept]).toBe(i % k);
      kept++;
    }
    for (let i = 0; i < n; i++) if (topOf(real, i, k).p >= 0.9) confidentReal++;
    expect(kept).toBe(m);
    expect(r.class_agreement!.value).toBeCloseTo(agree / m, 12);
    expect(r.class_agreement!.n_fake).toBe(m);
    expect(r.confident!.value).toBeCloseTo(confident / m, 12);
    expect(r.confident!.test_value).toBeCloseTo(confidentReal / n, 12);
    expect(r.confident!.classes).toEqual(classes);
    expect(r.confident!.label).toBe('confidently classified (testnet-cnn, top probability ≥ 0.9)');
    classifier.dispose();
  });
});
