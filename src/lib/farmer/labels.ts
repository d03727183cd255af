// Class labels: −1 is the null label. Embedding lookups are one-hot matMuls so they have
// gradients on every backend (wasm has no gather gradient).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/random';

export const NULL_LABEL = -1;

/** null labels for a batch of B */
export function nullLabels(B: number): Int32Array {
  return new Int32Array(B).fill(NULL_LABEL);
}

/** Labels cycling through the classes: sample i of a run asks for class (start + i) mod numClasses. */
export function cyclingLabels(n: number, numClasses: number, start = 0): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (start + i) % numClasses);
}

export function checkLabels(labels: Int32Array, numClasses: number, batch: number): void {
  if (labels.length !== batch) throw new Error(`labels: expected ${batch} labels, got ${labels.length}`);
  if (numClasses === 0 && labels.some((y) => y !== NULL_LABEL))
    throw new Error('labels given to an unconditional model (num_classes = 0)');
  for (const y of labels)
    if (!Number.isInteger(y) || y < NULL_LABEL || y >= numClasses)
      throw new Error(`label ${y} is outside [−1, ${numClasses - 1}]`);
}

/** [B, C]: one-hot rows, and uniform 1/C rows for the null label (the mean of the class rows). */
export function classMixtureWeights(labels: Int32Array, numClasses: number): tf.Tensor2D {
  const w = new Float32Array(labels.length * numClasses);
  labels.forEach((y, i) => {
    if (y === NULL_LABEL) w.fill(1 / numClasses, i * numClasses, (i + 1) * numClasses);
    else w[i * numClasses + y] = 1;
  });
  return tf.tensor2d(w, [labels.length, numClasses]);
}

/** [B, C+1]: one-hot rows where the null label is row C (the learned null embedding). */
export function nullRowOneHot(labels: Int32Array, numClasses: number): tf.Tensor2D {
  const w = new Float32Array(labels.length * (numClasses + 1));
  labels.forEach((y, i) => (w[i * (numClasses + 1) + (y === NULL_LABEL ? numClasses : y)] = 1));
  return tf.tensor2d(w, [labels.length, numClasses + 1]);
}

/** Label dropout: each label becomes null with probability p. */
export function dropLabels(labels: Int32Array, p: number, rng: Rng): Int32Array {
  return labels.map((y) => (rng.uniform() < p ? NULL_LABEL : y));
}
