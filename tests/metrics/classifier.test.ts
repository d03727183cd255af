import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  conv3x3,
  createClassifier,
  FEATURE_DIM,
  parameterShapes,
  type Classifier,
} from '../../src/lib/metrics/classifier';
import { computeFeatures, decodeFeatureNet, encodeFeatureNet } from '../../src/lib/metrics/features';
import { serializeSafetensors } from '../../src/lib/io/safetensors';
import { Rng } from '../../src/lib/util/random';

const spec = { height: 28, width: 28, channels: 3, heads: { digit: 10, fg_hue: 6 } };
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const maxAbs = (a: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]);

/** The same network from stock tfjs ops, differentiated by tfjs's own kernels (cpu backend). */
function referenceLogits(net: Classifier, pixels: tf.Tensor4D, head: string): tf.Tensor2D {
  const p = (n: string) => net.params.get(n)!;
  const conv = (x: tf.Tensor4D, n: string) =>
    tf.relu(tf.add(tf.conv2d(x, p(`${n}.weight`) as tf.Tensor4D, 1, 'same'), p(`${n}.bias`))) as tf.Tensor4D;
  let x = tf.div(tf.cast(pixels, 'float32'), 255) as tf.Tensor4D;
  if (net.spec.valueChannel) x = tf.concat([x, tf.max(x, 3, true) as tf.Tensor4D], 3);
  x = tf.maxPool(conv(x, 'conv1'), 2, 2, 'valid');
  x = tf.maxPool(conv(x, 'conv2'), 2, 2, 'valid');
  x = conv(x, 'conv3');
  const f = tf.relu(
    tf.add(tf.matMul(tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D, p('fc.weight') as tf.Tensor2D), p('fc.bias')),
  ) as tf.Tensor2D;
  return tf.add(tf.matMul(f, p(`head.${head}.weight`) as tf.Tensor2D), p(`head.${head}.bias`));
}

describe('feature-network classifier', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('convolution gradients, made of forward convolutions, equal tfjs’s own', () => {
    const rng = new Rng(1);
    const x = tf.tensor4d(rng.normals(2 * 5 * 6 * 3), [2, 5, 6, 3]);
    const w = tf.tensor4d(rng.normals(3 * 3 * 3 * 4), [3, 3, 3, 4]);
    const r = tf.tensor4d(rng.normals(2 * 5 * 6 * 4), [2, 5, 6, 4]);
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv3x3(a as tf.Tensor4D, b as tf.Tensor4D), r)),
    )([x, w]);
    const stock = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), r)),
    )([x, w]);
    expect(maxDiff(ours[0], stock[0])).toBeLessThan(1e-4 * maxAbs(stock[0]));
    expect(maxDiff(ours[1], stock[1])).toBeLessThan(1e-4 * maxAbs(stock[1]));
  });

  it.each([false, true])(
    'has the documented parameters and matches the stock-op network in value and gradient (value channel: %s)',
    (valueChannel) => {
      const small = { ...spec, height: 8, width: 12, valueChannel };
      const net = createClassifier(small, new Rng(2));
      expect(parameterShapes(small).map(([n]) => n)).toEqual([
        'conv1.weight',
        'conv1.bias',
        'conv2.weight',
        'conv2.bias',
        'conv3.weight',
        'conv3.bias',
        'fc.weight',
        'fc.bias',
        'head.digit.weight',
        'head.digit.bias',
        'head.fg_hue.weight',
        'head.fg_hue.bias',
      ]);
      expect(parameterShapes(spec).find(([n]) => n === 'fc.weight')![1]).toEqual([7 * 7 * 128, FEATURE_DIM]);
      expect(net.params.get('fc.weight')!.shape).toEqual([2 * 3 * 128, FEATURE_DIM]);
      expect(net.params.get('conv1.weight')!.shape).toEqual([3, 3, valueChannel ? 4 : 3, 32]);
      const pixels = tf.tensor4d(new Rng(3).uniforms(4 * 8 * 12 * 3, 0, 255).map(Math.floor), [4, 8, 12, 3], 'int32');
      const labels = tf.oneHot(tf.tensor1d([1, 5, 2, 0], 'int32'), 6);
      const vars = [...net.params.values()];
      const loss = (logits: () => tf.Tensor2D) => () => tf.losses.softmaxCrossEntropy(labels, logits()) as tf.Scalar;
      const ours = tf.variableGrads(
        loss(() => net.logits(net.features(pixels), 'fg_hue')),
        vars,
      );
      const stock = tf.variableGrads(
        loss(() => referenceLogits(net, pixels, 'fg_hue')),
        vars,
      );
      expect(Math.abs(ours.value.dataSync()[0] - stock.value.dataSync()[0])).toBeLessThan(1e-5);
      for (const [name, v] of net.params) {
        if (name.startsWith('head.digit')) continue; // not on this loss's path
        const g = stock.grads[v.name];
        expect(maxDiff(ours.grads[v.name], g), name).toBeLessThanOrEqual(1e-4 * maxAbs(g) + 1e-7);
      }
      net.dispose();
    },
  );

  it('round-trips through its safetensors file and explains bad files', async () => {
    const net = createClassifier({ ...spec, channels: 1, heads: { digit: 10 } }, new Rng(4));
    const bytes = encodeFeatureNet(net, { dataset: 'test', test_accuracy: { digit: 0.5 } });
    const back = decodeFeatureNet(bytes);
    expect(back.card).toEqual({ dataset: 'test', test_accuracy: { digit: 0.5 } });
    const images = Uint8Array.from(new Rng(5).uniforms(7 * 784, 0, 255), Math.floor);
    const a = await computeFeatures({ classifier: net, card: {} }, images, 7, { batchSize: 3 });
    const b = await computeFeatures(back, images, 7);
    expect(b.features).toEqual(a.features);
    expect(b.probs.digit).toEqual(a.probs.digit);
    expect(a.features.length).toBe(7 * FEATURE_DIM);
    for (let i = 0; i < 7; i++)
      expect(a.probs.digit.subarray(i * 10, i * 10 + 10).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);

    expect(() => decodeFeatureNet(bytes.subarray(0, 100), 'x.safetensors')).toThrow(/^x.safetensors: /);
    const other = serializeSafetensors([['w', { dtype: 'F32', shape: [1], data: new Float32Array(1) }]], {
      format: 'farmer-workbench',
    });
    expect(() => decodeFeatureNet(other)).toThrow(/not a feature network \(format "farmer-workbench"\)/);
    const missing = serializeSafetensors(
      [['conv1.weight', { dtype: 'F32', shape: [3, 3, 1, 32], data: new Float32Array(288) }]],
      {
        format: 'farmer-features',
        version: '1',
        spec: JSON.stringify({ ...spec, channels: 1, heads: { digit: 10 } }),
        card: '{}',
      },
    );
    expect(() => decodeFeatureNet(missing)).toThrow(/missing tensor conv1.bias/);
    await expect(computeFeatures(back, images.subarray(1), 7)).rejects.toThrow(/not 7 images of 28×28×1/);
    net.dispose();
  });
});
