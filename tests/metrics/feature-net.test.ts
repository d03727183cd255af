// The shipped feature networks (static/models/features-*.safetensors) on fixed test subsets.
import { beforeAll, describe, expect, it } from 'vitest';
import { colorClasses, colorize, coloredMnistSeeds } from '../../src/lib/data/colored';
import { sliceSet, type ImageSet } from '../../src/lib/data/idx';
import { loadMnist } from '../../src/node/mnist';
import { FEATURE_DIM } from '../../src/lib/metrics/classifier';
import { imageMetrics } from '../../src/lib/metrics/evaluate';
import { featureStats } from '../../src/lib/metrics/fid';
import { accuracy, computeFeatures } from '../../src/lib/metrics/features';
import { loadFeatureNet } from '../../src/node/feature-net';
import { useBackend } from '../../src/node/backend';

/** every `step`-th image of a set */
function every(set: ImageSet, step: number): ImageSet {
  const size = set.height * set.width * set.channels,
    n = Math.ceil(set.n / step);
  const images = new Uint8Array(n * size),
    labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    images.set(set.images.subarray(i * step * size, (i * step + 1) * size), i * size);
    labels[i] = set.labels[i * step];
  }
  return { ...set, n, images, labels };
}

/** nearest-centroid accuracy: centroids of `train` features per class, evaluated on `test` */
function nearestCentroid(
  train: Float32Array,
  trainY: Uint8Array,
  test: Float32Array,
  testY: Uint8Array,
  k: number,
): number {
  const c = new Float64Array(k * FEATURE_DIM),
    count = new Float64Array(k);
  trainY.forEach((y, i) => {
    count[y]++;
    for (let j = 0; j < FEATURE_DIM; j++) c[y * FEATURE_DIM + j] += train[i * FEATURE_DIM + j];
  });
  for (let y = 0; y < k; y++) for (let j = 0; j < FEATURE_DIM; j++) c[y * FEATURE_DIM + j] /= count[y];
  let hits = 0;
  testY.forEach((y, i) => {
    let best = 0,
      bestD = Infinity;
    for (let z = 0; z < k; z++) {
      let d = 0;
      for (let j = 0; j < FEATURE_DIM; j++) d += (test[i * FEATURE_DIM + j] - c[z * FEATURE_DIM + j]) ** 2;
      if (d < bestD) [best, bestD] = [z, d];
    }
    if (best === y) hits++;
  });
  return hits / testY.length;
}

describe('shipped feature networks', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('MNIST: ≥ 99.0% accuracy on 2000 test images (every 5th)', async () => {
    const net = loadFeatureNet('mnist');
    const test = every(loadMnist('test'), 5);
    expect(test.n).toBe(2000);
    const out = await computeFeatures(net, test.images, test.n);
    const acc = accuracy(out.probs.digit, test.labels, 10);
    expect(acc).toBeGreaterThanOrEqual(0.99);
    expect((net.card.test_accuracy as { digit: number }).digit).toBeGreaterThanOrEqual(0.99);
    net.classifier.dispose();
  });

  it('Colored MNIST: reads digits, and its features recover both colours (nearest centroid) and move FID', async () => {
    const net = loadFeatureNet('colored-mnist');
    const grey = loadMnist('test');
    const test = colorize(sliceSet(grey, 0, 1000), coloredMnistSeeds.test);
    const trainN = 2000;
    const train = colorize(sliceSet(loadMnist('train'), 0, trainN), coloredMnistSeeds.train);
    const [fTest, fTrain] = [
      await computeFeatures(net, test.images, test.n),
      await computeFeatures(net, train.images, trainN),
    ];
    expect(accuracy(fTest.probs.digit, test.labels, 10)).toBeGreaterThanOrEqual(0.98);

    const testColors = colorClasses(test.n, coloredMnistSeeds.test),
      trainColors = colorClasses(trainN, coloredMnistSeeds.train);
    const fg = nearestCentroid(fTrain.features, trainColors.fg, fTest.features, testColors.fg, 6);
    const bg = nearestCentroid(fTrain.features, trainColors.bg, fTest.features, testColors.bg, 6);
    expect(fg).toBeGreaterThanOrEqual(0.9);
    expect(bg).toBeGreaterThanOrEqual(0.9);

    // Same digits and colour distribution (another seed) vs foreground and background swapped.
    const digits = sliceSet(grey, 0, 1000);
    const sameDist = colorize(digits, 77);
    const swapped = colorize({ ...digits, images: digits.images.map((v) => 255 - v) }, coloredMnistSeeds.test);
    const realStats = featureStats(fTest.features, test.n, FEATURE_DIM);
    const a = await imageMetrics(net, test.images, test.n, sameDist.images, sameDist.n, {
      pr: false,
      is: false,
      realStats,
    });
    const b = await imageMetrics(net, test.images, test.n, swapped.images, swapped.n, {
      pr: false,
      is: false,
      realStats,
    });
    expect(b.fid!).toBeGreaterThan(10 * a.fid!);
    net.classifier.dispose();
  });
});
