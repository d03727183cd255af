// Sampling n images in batches and keeping the finite ones: what every experiment that scores or
// shows samples does. One seed scheme: sample i of a run draws from Rng(mixSeed(seed, i)) (a hash,
// util/seeds.ts; sampling.ts), so a run's samples depend on the seed only, never on the batch
// size (GPU backends batch wider: tf/batch-width.ts), and seeds 0 and 64 share no samples.
import type * as tf from '@tensorflow/tfjs';
import type { FarmerModel } from './model';
import { sample, type SampleOptions } from './sampling';
import { cyclingLabels } from './labels';
import { modelToPixels } from '../data/dequantize';

/** Sequential steps of drawing one batch: AR tokens (FARMER prior), then AF inverse blocks. */
export function sampleSteps(model: FarmerModel): number {
  return (model.config.prior.kind === 'farmer' ? model.dims.tokens : 0) + model.config.af.blocks;
}

export interface BatchOptions extends Omit<SampleOptions, 'n' | 'seed' | 'labels' | 'onProgress'> {
  n: number;
  /** images per sample() call; it does not change the samples */
  batch: number;
  seed: number;
  /** labels of samples start … start + count − 1; default: cycling over the classes (conditional models), else the null label */
  labels?: (start: number, count: number) => Int32Array | null;
  /** progress in sample steps: done of n × (AR tokens + AF blocks) */
  onProgress?: (done: number, total: number) => void;
  /** each batch's images before they are disposed, e.g. for a forward pass of the finite ones */
  onBatch?: (b: {
    start: number;
    count: number;
    images: tf.Tensor4D;
    finite: boolean[];
    labels: Int32Array | null;
  }) => Promise<void> | void;
}

export interface Batches {
  /** all n samples as uint8 [n, H, W, C]; NaN/Inf pixels are 0 */
  pixels: Uint8Array;
  /** per sample: false when it holds NaN or Inf */
  finite: boolean[];
  /** the label each sample was drawn with, null for an unconditional model */
  labels: Int32Array | null;
  /** naive CFG: dimensions that fell back to the conditional draw */
  cfgFallbacks: number;
}

export async function sampleBatches(model: FarmerModel, o: BatchOptions): Promise<Batches> {
  const { n, batch, seed, labels: labelsOf, onProgress, onBatch, ...rest } = o;
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`invalid batch: ${batch} (a positive integer)`);
  const K = model.config.num_classes,
    size = model.dims.pixels;
  const steps = sampleSteps(model);
  const pixels = new Uint8Array(n * size);
  const finite: boolean[] = [];
  const labels = K > 0 ? new Int32Array(n) : null;
  let cfgFallbacks = 0;
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const y = labelsOf ? labelsOf(start, count) : K > 0 ? cyclingLabels(count, K, start) : null;
    if (labels && y) labels.set(y, start);
    const r = await sample(model, {
      ...rest,
      n: count,
      seed,
      first: start,
      labels: y,
      onProgress: (k) => onProgress?.(start * steps + count * k, n * steps),
    });
    try {
      pixels.set(modelToPixels((await r.images.data()) as Float32Array, model.config.dequantization), start * size);
      await onBatch?.({ start, count, images: r.images, finite: r.finite, labels: y });
    } finally {
      r.images.dispose();
      r.z.dispose();
    }
    finite.push(...r.finite);
    cfgFallbacks += r.cfgFallbacks;
    onProgress?.((start + count) * steps, n * steps);
  }
  return { pixels, finite, labels, cfgFallbacks };
}

/** The rows of uint8 images [n, …] whose `finite` is true, in order. */
export function keepFinite(pixels: Uint8Array, finite: readonly boolean[]): { pixels: Uint8Array; rows: number[] } {
  const size = pixels.length / Math.max(1, finite.length);
  const rows = finite.flatMap((ok, i) => (ok ? [i] : []));
  const out = new Uint8Array(rows.length * size);
  rows.forEach((row, i) => out.set(pixels.subarray(row * size, (row + 1) * size), i * size));
  return { pixels: out, rows };
}
