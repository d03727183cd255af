// Multi-head self-attention (causal or bidirectional) with a preallocated key/value cache.
import * as tf from '@tensorflow/tfjs';
import { linearNamed, linearSplit } from './layers';
import type { Params } from './params';

/** The masking constant: large and finite, never −∞ (docs/model.md, "Transformer layers"). */
export const MASK_VALUE = -1e9;

export interface AttentionOptions {
  heads: number;
  causal: boolean;
  /** logits are divided by it (TARFlow's sampling-time attention temperature); default 1 */
  temperature?: number;
}

/** [B, T, W] → [B, heads, T, hd] */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [B, T, W] = x.shape;
  return x.reshape([B, T, heads, W / heads]).transpose([0, 2, 1, 3]);
}

/** [B, T, W] → [B, heads, hd, T], the keys already laid out for a plain matMul */
function splitHeadsTransposed(x: tf.Tensor, heads: number): tf.Tensor {
  const [B, T, W] = x.shape;
  return x.reshape([B, T, heads, W / heads]).transpose([0, 2, 3, 1]);
}

/** [B, heads, T, hd] → [B, T, W] */
function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [B, H, T, hd] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([B, T, H * hd]);
}

/** Additive mask [Tq, Tk]: query at absolute position `offset + i` sees keys j ≤ offset + i. */
export function causalBias(Tq: number, Tk: number, offset = 0): tf.Tensor2D {
  const bias = new Float32Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) for (let j = offset + i + 1; j < Tk; j++) bias[i * Tk + j] = MASK_VALUE;
  return tf.tensor2d(bias, [Tq, Tk]);
}

function attend(q: tf.Tensor, kT: tf.Tensor, v: tf.Tensor, hd: number, bias: tf.Tensor | null, temperature: number) {
  let logits = tf.matMul(q, kT).mul(1 / (Math.sqrt(hd) * temperature)); // [B, H, Tq, Tk]
  if (bias) logits = logits.add(bias);
  return tf.matMul(tf.softmax(logits), v); // [B, H, Tq, hd]
}

/** Full-sequence attention of `{name}.qkv` / `{name}.out` over h [B, T, W]. */
export function attention(params: Params, name: string, h: tf.Tensor, opts: AttentionOptions): tf.Tensor {
  return tf.tidy(() => {
    const [, T, W] = h.shape as [number, number, number];
    const hd = W / opts.heads;
    const [q, k, v] = linearSplit(params, `${name}.qkv`, h, [W, W, W]);
    const bias = opts.causal ? causalBias(T, T) : null;
    const o = attend(
      splitHeads(q, opts.heads),
      splitHeadsTransposed(k, opts.heads),
      splitHeads(v, opts.heads),
      hd,
      bias,
      opts.temperature ?? 1,
    );
    return linearNamed(params, `${name}.out`, mergeHeads(o));
  });
}

/**
 * Keys and values of one attention layer for up to `capacity` positions, allocated once so
 * every step has the same shapes (WebGPU pools buffers by exact size).
 */
export class KVCache {
  /** [B, H, hd, capacity] */
  keysT: tf.Tensor;
  /** [B, H, capacity, hd] */
  values: tf.Tensor;
  /** positions filled so far */
  length = 0;

  constructor(
    readonly batch: number,
    readonly heads: number,
    readonly headDim: number,
    readonly capacity: number,
  ) {
    this.keysT = tf.keep(tf.zeros([batch, heads, headDim, capacity]));
    this.values = tf.keep(tf.zeros([batch, heads, capacity, headDim]));
  }

  /** Writes kT [B,H,hd,Tn] and v [B,H,Tn,hd] at positions [length, length + Tn). */
  append(kT: tf.Tensor, v: tf.Tensor): void {
    const Tn = kT.shape[3] as number;
    const start = this.length;
    if (start + Tn > this.capacity) throw new Error(`KV cache overflow: ${start + Tn} > ${this.capacity}`);
    const keep = new Float32Array(this.capacity).fill(1);
    keep.fill(0, start, start + Tn);
    const [keysT, values] = tf.tidy(() => {
      const keepT = tf.tensor1d(keep);
      const after = this.capacity - start - Tn;
      const k = this.keysT.mul(keepT).add(
        kT.pad([
          [0, 0],
          [0, 0],
          [0, 0],
          [start, after],
        ]),
      );
      const vv = this.values.mul(keepT.reshape([-1, 1])).add(
        v.pad([
          [0, 0],
          [0, 0],
          [start, after],
          [0, 0],
        ]),
      );
      return [k, vv];
    });
    // The cache outlives any tidy scope the caller may be in.
    tf.keep(keysT);
    tf.keep(values);
    this.keysT.dispose();
    this.values.dispose();
    this.keysT = keysT;
    this.values = values;
    this.length = start + Tn;
  }

  dispose(): void {
    this.keysT.dispose();
    this.values.dispose();
  }
}

/**
 * Attention for new tokens h [B, Tn, W] at positions [cache.length, cache.length + Tn),
 * causal against everything cached before them; appends their keys and values.
 */
export function attentionStep(
  params: Params,
  name: string,
  h: tf.Tensor,
  cache: KVCache,
  opts: AttentionOptions,
): tf.Tensor {
  const [, Tn, W] = h.shape as [number, number, number];
  const hd = W / opts.heads;
  const offset = cache.length;
  const [q, kT, v] = tf.tidy(() => {
    const [q, k, v] = linearSplit(params, `${name}.qkv`, h, [W, W, W]);
    return [splitHeads(q, opts.heads), splitHeadsTransposed(k, opts.heads), splitHeads(v, opts.heads)];
  });
  cache.append(kT, v);
  kT.dispose();
  v.dispose();
  return tf.tidy(() => {
    // Positions past the filled part hold zeros; the causal bias hides them.
    const bias = causalBias(Tn, cache.capacity, offset);
    const o = attend(q, cache.keysT, cache.values, hd, bias, opts.temperature ?? 1);
    q.dispose();
    return linearNamed(params, `${name}.out`, mergeHeads(o));
  });
}
