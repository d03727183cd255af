// Data parallelism for the training step of Eq. 14: the batch is cut into shards, each shard's
// gradient is computed on its own copy of the weights (another thread, another core), and the
// gradients are averaged with weights n_shard / n_batch. The loss is a batch mean, so the average
// is the full batch's gradient up to float rounding; clipping and AdamW then run once, on the
// main copy. Browser-safe: the helpers that compute shards are an interface (Node's worker
// threads in src/node/train-workers.ts).
import * as tf from '@tensorflow/tfjs';
import type { FarmerConfig } from '../farmer/config';
import { lossTerms, makeModel } from '../farmer/model';
import { gradientsOf } from './step';

/** Part of a batch: model-space inputs [n, H, W, C] flattened, and labels (null: unconditional). */
export interface Shard {
  n: number;
  x: Float32Array;
  labels: Int32Array | null;
}

/** One shard's result. `grads` holds every variable's gradient in `names` order, zeros where tfjs gave none (`missing`). */
export interface ShardGradients {
  n: number;
  loss: number;
  logdetPerDim: number;
  grads: Float32Array;
  /** names of variables without a gradient on this shard */
  missing: string[];
}

/** Computes the gradients of shards on copies of the weights elsewhere (threads, workers). */
export interface GradientHelpers {
  /** how many shards they take per step */
  readonly count: number;
  /** the gradients of `shards` (one per helper) at the weights `weights` (all variables, in `names` order) */
  gradients(weights: Float32Array, shards: Shard[]): Promise<ShardGradients[]>;
  dispose(): Promise<void>;
}

/** Sizes of `parts` shards of a batch of `batch`: as equal as possible, larger first, none empty. */
export function shardSizes(batch: number, parts: number): number[] {
  if (parts > batch) throw new Error(`cannot split a batch of ${batch} into ${parts} shards`);
  const base = Math.floor(batch / parts),
    extra = batch % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The batch (x of `pixelsPerImage` values per image) cut into shards of `sizes`, in order. */
export function splitBatch(
  x: Float32Array,
  labels: Int32Array | null,
  sizes: number[],
  pixelsPerImage: number,
): Shard[] {
  let start = 0;
  return sizes.map((n) => {
    const shard = {
      n,
      x: x.subarray(start * pixelsPerImage, (start + n) * pixelsPerImage),
      labels: labels ? labels.subarray(start, start + n) : null,
    };
    start += n;
    return shard;
  });
}

/** Every variable in `names` order as one vector (what helpers receive each step). */
export function flatWeights(vars: Map<string, tf.Variable>): Float32Array {
  const parts = [...vars.values()].map((v) => v.dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Writes `weights` (flatWeights' layout) into the variables. */
export function assignFlatWeights(vars: Map<string, tf.Variable>, weights: Float32Array): void {
  const total = [...vars.values()].reduce((s, v) => s + v.size, 0);
  if (weights.length !== total) throw new Error(`weights: ${weights.length} values for ${total} parameters`);
  let offset = 0;
  for (const v of vars.values()) {
    const t = tf.tensor(weights.subarray(offset, offset + v.size), v.shape);
    v.assign(t);
    t.dispose();
    offset += v.size;
  }
}

/** Eq. 14's loss on n images x [n, H, W, C], its gradients and its mean logdet per dim, as tensors the caller disposes. */
export function lossGradients(
  cfg: FarmerConfig,
  vars: Map<string, tf.Variable>,
  x: Float32Array,
  labels: Int32Array | null,
  n: number,
): { value: tf.Scalar; grads: Map<string, tf.Tensor>; logdetPerDim: tf.Scalar } {
  const { height, width, channels } = cfg.image;
  const xb = tf.tensor4d(x, [n, height, width, channels]);
  const model = makeModel(cfg, vars);
  let logdet: tf.Scalar | null = null;
  const { value, grads } = gradientsOf(vars, () => {
    const terms = lossTerms(model, xb, labels);
    logdet?.dispose();
    logdet = tf.keep(terms.logdetPerDim);
    return terms.loss;
  });
  xb.dispose();
  return { value, grads, logdetPerDim: logdet! };
}

/** The mean loss of Eq. 14 on one shard and its gradients, at the variables' current values. */
export async function shardGradients(
  cfg: FarmerConfig,
  vars: Map<string, tf.Variable>,
  shard: Shard,
): Promise<ShardGradients> {
  const { value, grads, logdetPerDim } = lossGradients(cfg, vars, shard.x, shard.labels, shard.n);
  const total = [...vars.values()].reduce((s, v) => s + v.size, 0);
  const flat = new Float32Array(total);
  const missing: string[] = [];
  let offset = 0;
  for (const [name, v] of vars) {
    const g = grads.get(name);
    if (g) flat.set((await g.data()) as Float32Array, offset);
    else missing.push(name);
    offset += v.size;
  }
  const result = {
    n: shard.n,
    loss: (await value.data())[0],
    logdetPerDim: (await logdetPerDim.data())[0],
    grads: flat,
    missing,
  };
  tf.dispose([value, logdetPerDim, ...grads.values()]);
  return result;
}

/**
 * The batch's loss, logdet and gradients from its shards: Σ (n_s / n) · term_s. A variable gets a
 * gradient when any shard has one (shards without it count as zero), as one batch would.
 */
export function combineShards(
  vars: Map<string, tf.Variable>,
  shards: ShardGradients[],
): { loss: number; logdetPerDim: number; grads: Map<string, tf.Tensor> } {
  const n = shards.reduce((s, r) => s + r.n, 0);
  const w = shards.map((r) => r.n / n);
  const sum = new Float32Array(shards[0].grads.length);
  shards.forEach((r, s) => {
    if (r.grads.length !== sum.length)
      throw new Error(`shard ${s}: ${r.grads.length} gradients, expected ${sum.length}`);
    for (let i = 0; i < sum.length; i++) sum[i] += w[s] * r.grads[i];
  });
  const grads = new Map<string, tf.Tensor>();
  let offset = 0;
  for (const [name, v] of vars) {
    if (!shards.every((r) => r.missing.includes(name)))
      grads.set(name, tf.tensor(sum.subarray(offset, offset + v.size), v.shape));
    offset += v.size;
  }
  return {
    loss: shards.reduce((s, r, i) => s + w[i] * r.loss, 0),
    logdetPerDim: shards.reduce((s, r, i) => s + w[i] * r.logdetPerDim, 0),
    grads,
  };
}
