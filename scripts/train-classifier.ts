// Trains the feature network of one dataset on its train split (wasm backend) and writes
// static/models/features-<dataset>.safetensors + features-<dataset>.json (the card with the
// measured test accuracies and a nearest-centroid probe of the features).
// Run: nice -n 10 npx tsx scripts/train-classifier.ts --dataset mnist [--epochs 6] [--batch 128] [--seed 0]
//      [--value-channel (append max over RGB to the input)]
//      [--train-n N (first N train images only, for smoke tests)] [--out path-without-extension]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { LabelledSet } from '../src/lib/data/binfile';
import { colorClasses, coloredMnistSeeds, HUE_CLASSES } from '../src/lib/data/colored';
import { loadDataset } from '../src/node/datasets';
import { createClassifier, FEATURE_DIM, type ClassifierSpec } from '../src/lib/metrics/classifier';
import { accuracy, computeFeatures, encodeFeatureNet, type FeatureNet } from '../src/lib/metrics/features';
import { sliceSet } from '../src/lib/data/idx';
import { useBackend } from '../src/node/backend';
import { Rng } from '../src/lib/util/random';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'mnist' },
    epochs: { type: 'string', default: '6' },
    batch: { type: 'string', default: '128' },
    seed: { type: 'string', default: '0' },
    lr: { type: 'string', default: '0.001' },
    'train-n': { type: 'string' },
    'value-channel': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const dataset = args.dataset!;
const epochs = Number(args.epochs),
  batch = Number(args.batch),
  seed = Number(args.seed),
  lr0 = Number(args.lr);
const outBase = args.out ?? new URL(`../static/models/features-${dataset}`, import.meta.url).pathname;

await useBackend('wasm');
const fullTrain = loadDataset(dataset, 'train');
const train = args['train-n']
  ? { ...sliceSet(fullTrain, 0, Number(args['train-n'])), numClasses: fullTrain.numClasses }
  : fullTrain;
const test = loadDataset(dataset, 'test');
const colored = dataset === 'colored-mnist';
/** per head: labels of the train and test splits */
const targets: Record<string, { train: Uint8Array; test: Uint8Array; k: number }> = {
  digit: { train: train.labels, test: test.labels, k: train.numClasses },
};
if (colored) {
  const tr = colorClasses(train.n, coloredMnistSeeds.train),
    te = colorClasses(test.n, coloredMnistSeeds.test);
  targets.fg_hue = { train: tr.fg, test: te.fg, k: HUE_CLASSES };
  targets.bg_hue = { train: tr.bg, test: te.bg, k: HUE_CLASSES };
}
const spec: ClassifierSpec = {
  height: train.height,
  width: train.width,
  channels: train.channels,
  heads: Object.fromEntries(Object.entries(targets).map(([h, t]) => [h, t.k])),
  ...(args['value-channel'] ? { valueChannel: true } : {}),
};
const rng = new Rng(seed);
const net = createClassifier(spec, rng.fork());
const optimizer = tf.train.adam(lr0);
const setLr = (lr: number) => ((optimizer as unknown as { learningRate: number }).learningRate = lr);

const size = train.height * train.width * train.channels;
/** copies image `src` shifted by (dy, dx) pixels into `out`, filling with its top-left pixel (the background) */
function shifted(set: LabelledSet, src: number, dy: number, dx: number, out: Uint8Array, at: number) {
  const { height: H, width: W, channels: C } = set;
  const img = set.images.subarray(src * size, (src + 1) * size);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const sy = y - dy,
        sx = x - dx;
      const from = sy >= 0 && sy < H && sx >= 0 && sx < W ? (sy * W + sx) * C : 0;
      for (let c = 0; c < C; c++) out[at + (y * W + x) * C + c] = img[from + c];
    }
}

async function evaluate(result: FeatureNet) {
  const out = await computeFeatures(result, test.images, test.n);
  return Object.fromEntries(Object.entries(targets).map(([h, t]) => [h, accuracy(out.probs[h], t.test, t.k)]));
}

const stepsPerEpoch = Math.floor(train.n / batch),
  totalSteps = epochs * stepsPerEpoch;
const variables = [...net.params.values()];
const pixels = new Uint8Array(batch * size);
const t0 = performance.now();
let step = 0;
const card: Record<string, unknown> = {};
for (let epoch = 0; epoch < epochs; epoch++) {
  const order = Array.from({ length: train.n }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let lossSum = 0,
    lossCount = 0,
    tLog = performance.now();
  for (let s = 0; s < stepsPerEpoch; s++, step++) {
    setLr(1e-5 + (lr0 - 1e-5) * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps)));
    const idx = order.slice(s * batch, (s + 1) * batch);
    idx.forEach((src, b) => shifted(train, src, rng.int(5) - 2, rng.int(5) - 2, pixels, b * size));
    const mask = Float32Array.from({ length: batch * FEATURE_DIM }, () => (rng.uniform() < 0.25 ? 0 : 1 / 0.75)); // dropout 0.25
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(pixels, [batch, spec.height, spec.width, spec.channels], 'int32');
      const m = tf.tensor2d(mask, [batch, FEATURE_DIM]);
      return optimizer.minimize(
        () => {
          const f = net.features(x, m);
          const terms = Object.entries(targets).map(([h, t]) =>
            tf.losses.softmaxCrossEntropy(
              tf.oneHot(
                tf.tensor1d(
                  idx.map((i) => t.train[i]),
                  'int32',
                ),
                t.k,
              ),
              net.logits(f, h),
            ),
          );
          return tf.addN(terms) as tf.Scalar;
        },
        true,
        variables,
      )!;
    });
    lossSum += loss.dataSync()[0];
    lossCount++;
    loss.dispose();
    if ((step + 1) % 100 === 0) {
      const now = performance.now();
      console.log(
        `epoch ${epoch + 1} step ${step + 1}/${totalSteps} loss ${(lossSum / lossCount).toFixed(4)} ${((100 * batch) / ((now - tLog) / 1000)).toFixed(0)} img/s`,
      );
      lossSum = lossCount = 0;
      tLog = now;
    }
  }
  const acc = await evaluate({ classifier: net, card });
  console.log(
    `epoch ${epoch + 1}: test accuracy ${JSON.stringify(acc)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
  Object.assign(card, {
    dataset,
    feature_dim: FEATURE_DIM,
    epochs: epoch + 1,
    steps: step,
    batch,
    seed,
    backend: 'wasm',
    time_s: Math.round((performance.now() - t0) / 1000),
    test_accuracy: acc,
    recipe: `Adam lr ${lr0} cosine to 1e-5, ±2 px shifts, dropout 0.25 on the features`,
    command: `npx tsx scripts/train-classifier.ts ${process.argv.slice(2).join(' ')}`,
  });
  writeFileSync(`${outBase}.safetensors`, encodeFeatureNet(net, card));
  writeFileSync(`${outBase}.json`, JSON.stringify(card, null, 2) + '\n');
}

// Nearest-centroid probe: class centroids of the features of the first 10000 train images,
// accuracy of the nearest centroid on the test features (shows what the features encode).
const probeN = Math.min(10000, train.n);
const trainFeatures = await computeFeatures({ classifier: net, card }, train.images.subarray(0, probeN * size), probeN);
const testFeatures = await computeFeatures({ classifier: net, card }, test.images, test.n);
const probe: Record<string, number> = {};
for (const [h, t] of Object.entries(targets)) {
  const centroids = new Float64Array(t.k * FEATURE_DIM),
    counts = new Float64Array(t.k);
  for (let i = 0; i < probeN; i++) {
    counts[t.train[i]]++;
    for (let j = 0; j < FEATURE_DIM; j++)
      centroids[t.train[i] * FEATURE_DIM + j] += trainFeatures.features[i * FEATURE_DIM + j];
  }
  for (let c = 0; c < t.k; c++)
    for (let j = 0; j < FEATURE_DIM; j++) centroids[c * FEATURE_DIM + j] /= Math.max(1, counts[c]);
  let hits = 0;
  for (let i = 0; i < test.n; i++) {
    let best = -1,
      bestD = Infinity;
    for (let c = 0; c < t.k; c++) {
      let d = 0;
      for (let j = 0; j < FEATURE_DIM; j++)
        d += (testFeatures.features[i * FEATURE_DIM + j] - centroids[c * FEATURE_DIM + j]) ** 2;
      if (d < bestD) [bestD, best] = [d, c];
    }
    if (best === t.test[i]) hits++;
  }
  probe[h] = hits / test.n;
}
card.nearest_centroid_probe = probe;
console.log(`nearest-centroid probe on the features (test accuracy): ${JSON.stringify(probe)}`);
writeFileSync(`${outBase}.safetensors`, encodeFeatureNet(net, card));
writeFileSync(`${outBase}.json`, JSON.stringify(card, null, 2) + '\n');
console.log(`wrote ${outBase}.safetensors and .json`);
