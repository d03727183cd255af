// Features and class probabilities of image batches for FID / IS / precision–recall, in the
// browser and in Node (browser-safe: bytes in; see src/node/feature-net.ts for files).
//
// File: one safetensors file per dataset, static/models/features-<dataset>.safetensors, float32
// tensors named as in classifier.ts (tfjs layouts), `__metadata__`: format = "farmer-features",
// version = "1", spec = ClassifierSpec JSON, card = JSON (dataset, accuracies, training run).
import * as tf from '@tensorflow/tfjs';
import { parseSafetensors, readFloat32, serializeSafetensors, type TensorToWrite } from '../io/safetensors';
import { Classifier, classifierFromArrays, FEATURE_DIM, parameterShapes, type ClassifierSpec } from './classifier';
import { chooseWidth, floats, type Footprint } from '../tf/batch-width';

export interface FeatureNet {
  classifier: Classifier;
  /** the card: dataset, measured accuracies, how it was trained */
  card: Record<string, unknown>;
}

export function encodeFeatureNet(classifier: Classifier, card: Record<string, unknown>): Uint8Array {
  const tensors: [string, TensorToWrite][] = parameterShapes(classifier.spec).map(([name, shape]) => [
    name,
    { dtype: 'F32', shape, data: classifier.params.get(name)!.dataSync() as Float32Array },
  ]);
  return serializeSafetensors(tensors, {
    format: 'farmer-features',
    version: '1',
    spec: JSON.stringify(classifier.spec),
    card: JSON.stringify(card),
  });
}

/** Parses a feature-network file; errors name `what`. */
export function decodeFeatureNet(bytes: Uint8Array | ArrayBuffer, what = 'feature network'): FeatureNet {
  try {
    const file = parseSafetensors(bytes);
    if (file.metadata.format !== 'farmer-features')
      throw new Error(`not a feature network (format ${JSON.stringify(file.metadata.format)})`);
    if (file.metadata.version !== '1') throw new Error(`unsupported version ${file.metadata.version}`);
    const spec = JSON.parse(file.metadata.spec) as ClassifierSpec;
    const arrays = new Map(file.tensors.map((t) => [t.name, { shape: t.shape, data: readFloat32(file, t) }]));
    return { classifier: classifierFromArrays(spec, arrays), card: JSON.parse(file.metadata.card ?? '{}') };
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

export interface FeatureResult {
  n: number;
  /** [n, FEATURE_DIM] penultimate activations (FID, precision–recall) */
  features: Float32Array;
  /** head name → softmax probabilities [n, classes] (the first head, the class, for IS) */
  probs: Record<string, Float32Array>;
}

/**
 * What one image holds in computeFeatures: the input, each convolution's output before and after
 * ReLU, its 3×3 patches (WebGPU convolves through them), the pooled maps and the dense layers.
 */
export function featureFootprint(spec: ClassifierSpec): Footprint {
  const { height: H, width: W } = spec;
  const cin = spec.channels + (spec.valueChannel ? 1 : 0);
  const maps = [
    [H * W, cin, 32],
    [(H >> 1) * (W >> 1), 32, 64],
    [(H >> 2) * (W >> 2), 64, 128],
  ];
  const largest = Math.max(...maps.map(([px, i, o]) => px * Math.max(9 * i, o)));
  const total = H * W * cin * 2 + maps.reduce((t, [px, i, o]) => t + px * (9 * i + 2 * o), 0) + 4 * FEATURE_DIM;
  return floats(largest, total);
}

/**
 * Features and probabilities of `n` uint8 images [n, H, W, C] (row-major, the network's shape),
 * in batches of `batchSize` (default 250, wider on webgpu: batch-width.ts). Async so that it also
 * runs on GPU backends (no dataSync).
 */
export async function computeFeatures(
  net: FeatureNet,
  pixels: Uint8Array,
  n: number,
  o: { batchSize?: number } = {},
): Promise<FeatureResult> {
  const batchSize = o.batchSize ?? chooseWidth(n, 250, featureFootprint(net.classifier.spec));
  const { height, width, channels, heads } = net.classifier.spec;
  const size = height * width * channels;
  if (pixels.length !== n * size)
    throw new Error(`computeFeatures: ${pixels.length} values are not ${n} images of ${height}×${width}×${channels}`);
  const features = new Float32Array(n * FEATURE_DIM);
  const probs: Record<string, Float32Array> = {};
  for (const [h, k] of Object.entries(heads)) probs[h] = new Float32Array(n * k);
  for (let i0 = 0; i0 < n; i0 += batchSize) {
    const b = Math.min(batchSize, n - i0);
    const outs = tf.tidy(() => {
      const x = tf.tensor4d(pixels.subarray(i0 * size, (i0 + b) * size), [b, height, width, channels], 'int32');
      const f = net.classifier.features(x);
      return [f, ...Object.keys(heads).map((h) => tf.softmax(net.classifier.logits(f, h)))];
    });
    const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
    outs.forEach((t) => t.dispose());
    features.set(values[0], i0 * FEATURE_DIM);
    Object.entries(heads).forEach(([h, k], j) => probs[h].set(values[j + 1], i0 * k));
  }
  return { n, features, probs };
}

/** Index of the largest value in each row of [n, k]. */
export function argmaxRows(values: Float32Array, k: number): Int32Array {
  const n = values.length / k,
    out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (values[i * k + j] > values[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Fraction of rows of probabilities [n, k] whose argmax equals the label. */
export function accuracy(probs: Float32Array, labels: ArrayLike<number>, k: number): number {
  const pred = argmaxRows(probs, k);
  let hits = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) hits++;
  return hits / pred.length;
}

/** Fetches static/models/features-<dataset>.safetensors (served at `baseUrl`) in the browser. */
export async function fetchFeatureNet(
  dataset: string,
  { baseUrl = '/models/', fetchFn = fetch } = {},
): Promise<FeatureNet> {
  const url = `${baseUrl}features-${dataset}.safetensors`;
  const response = await fetchFn(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return decodeFeatureNet(await response.arrayBuffer(), url);
}
