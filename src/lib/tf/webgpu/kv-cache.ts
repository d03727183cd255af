// Incremental decoding through a key/value cache, two dispatches per attention sublayer:
//  1. LN₁ and the qkv projection of the new tokens, written straight into the cache [B, cap, 3W]
//     at their positions (the cache is updated in place; it keeps the queries too, so the next
//     kernel needs no other input);
//  2. for each new token, its query against every cached key it may see, the softmax and the
//     weighted sum for all heads, then the output projection and the residual: h + out(attn).
import * as tf from '@tensorflow/tfjs';
import { program, registerGpuKernel, run, runKernel, sameBuffer, sharedFloats, type GpuBackend } from './program';
import { linearProgram, linearUniforms, type RowMap } from './linear';

const THREADS = 64;
const CACHE_QKV = 'FarmerCacheQkv';
const CACHED_ATTENTION = 'FarmerCachedAttention';

registerGpuKernel(CACHE_QKV, ({ inputs, backend, attrs }) => {
  const { h, weight, bias, gamma, beta, cache } = inputs as Record<string, tf.TensorInfo>;
  const [B, Tn, W] = h.shape;
  const cap = cache.shape[1];
  const pos = attrs.pos as number;
  const prog = linearProgram(
    { pre: 'ln', post: 'none', bias: true, residual: false },
    B * Tn,
    3 * W,
    cache.shape,
    true,
  );
  const outRows: RowMap = { group: Tn, stride: cap, offset: pos };
  const identity: RowMap = { group: B * Tn, stride: 0, offset: 0 };
  run(
    backend as GpuBackend,
    prog,
    [h, weight, bias, gamma, beta],
    linearUniforms(B * Tn, 3 * W, W, 1, identity, outRows),
    cache,
  );
  return sameBuffer(backend as GpuBackend, cache);
});

registerGpuKernel(CACHED_ATTENTION, ({ inputs, backend, attrs }) => {
  const { cache, h, weight, bias } = inputs as Record<string, tf.TensorInfo>;
  const [B, Tn, W] = h.shape;
  const cap = cache.shape[1];
  const heads = attrs.heads as number;
  const hd = W / heads;
  const prog = program({
    key: `cached_attention_${W}_${heads}_${cap}`,
    inputs: ['cache', 'hs', 'weight', 'bias'],
    outputShape: h.shape,
    workgroups: B * Tn,
    threads: THREADS,
    uniforms: 'rows : i32, tokens : i32, pos : i32, scale : f32,',
    code: `
  const WIDTH = ${W};
  const HEADS = ${heads};
  const HD = ${hd};
  const CAP = ${cap};
  var<workgroup> probs : array<f32, ${heads * cap}>;
  var<workgroup> attn : array<f32, WIDTH>;
  fn main(index : i32) {
    let row = workgroupIndex();
    let tid = i32(localId.x);
    let valid = row < uniforms.rows;
    let b = row / uniforms.tokens;
    let query = uniforms.pos + row % uniforms.tokens;
    let seen = query + 1;
    let qBase = (b * CAP + query) * 3 * WIDTH;
    if (valid) {
      for (var e = tid; e < HEADS * seen; e = e + ${THREADS}) {
        let hh = e / seen;
        let j = e % seen;
        let kBase = (b * CAP + j) * 3 * WIDTH + WIDTH + hh * HD;
        var s = 0.0;
        for (var c = 0; c < HD; c = c + 1) { s = s + cache[qBase + hh * HD + c] * cache[kBase + c]; }
        probs[hh * CAP + j] = s * uniforms.scale;
      }
    }
    workgroupBarrier();
    if (valid) {
      for (var hh = tid; hh < HEADS; hh = hh + ${THREADS}) {
        var m = -3.0e38;
        for (var j = 0; j < seen; j = j + 1) { m = max(m, probs[hh * CAP + j]); }
        var total = 0.0;
        for (var j = 0; j < seen; j = j + 1) { let p = exp(probs[hh * CAP + j] - m); probs[hh * CAP + j] = p; total = total + p; }
        for (var j = 0; j < seen; j = j + 1) { probs[hh * CAP + j] = probs[hh * CAP + j] / total; }
      }
    }
    workgroupBarrier();
    if (valid) {
      for (var e = tid; e < WIDTH; e = e + ${THREADS}) {
        let hh = e / HD;
        var a = 0.0;
        for (var j = 0; j < seen; j = j + 1) { a = a + probs[hh * CAP + j] * cache[(b * CAP + j) * 3 * WIDTH + 2 * WIDTH + e]; }
        attn[e] = a;
      }
    }
    workgroupBarrier();
    if (valid) {
      for (var o = tid; o < WIDTH; o = o + ${THREADS}) {
        var y = bias[o] + hs[row * WIDTH + o];
        for (var c = 0; c < WIDTH; c = c + 1) { y = y + weight[o * WIDTH + c] * attn[c]; }
        result[row * WIDTH + o] = y;
      }
    }
  }`,
  });
  const uniforms = [
    { type: 'int32' as const, data: [B * Tn] },
    { type: 'int32' as const, data: [Tn] },
    { type: 'int32' as const, data: [attrs.pos as number] },
    { type: 'float32' as const, data: [attrs.scale as number] },
  ];
  return run(backend as GpuBackend, prog, [cache, h, weight, bias], uniforms);
});

/** A cache for `capacity` positions of `batch` rows of width W: [B, cap, 3W] zeros. */
export function createQkvCache(batch: number, capacity: number, width: number): tf.Tensor3D {
  return tf.zeros([batch, capacity, 3 * width]);
}

/** Whether the cached attention of this shape fits a workgroup's shared memory. */
export function cachedAttentionFits(width: number, heads: number, capacity: number): boolean {
  return heads * capacity + width <= sharedFloats();
}

export interface CacheLayer {
  /** LN₁ */
  gamma: tf.Tensor;
  beta: tf.Tensor;
  /** qkv [3W, W], [3W] */
  qkvWeight: tf.Tensor;
  qkvBias: tf.Tensor;
  /** out [W, W], [W] */
  outWeight: tf.Tensor;
  outBias: tf.Tensor;
}

/**
 * Writes LN₁(h)·W_qkvᵀ + b for the new tokens h [B, Tn, W] at positions [pos, pos + Tn) of the
 * cache, in place: the returned tensor shares the cache's buffer (dispose the old one).
 */
export function writeQkv(cache: tf.Tensor3D, h: tf.Tensor, layer: CacheLayer, pos: number): tf.Tensor3D {
  const [, Tn] = h.shape;
  if (pos + Tn > cache.shape[1]) throw new Error(`KV cache overflow: ${pos + Tn} > ${cache.shape[1]}`);
  return runKernel<tf.Tensor3D>(
    CACHE_QKV,
    { h, weight: layer.qkvWeight, bias: layer.qkvBias, gamma: layer.gamma, beta: layer.beta, cache },
    { pos },
  );
}

/** h + out(attention of the new tokens at [pos, pos + Tn) over cache positions ≤ theirs), [B, Tn, W]. */
export function attendCached(
  cache: tf.Tensor3D,
  h: tf.Tensor,
  layer: CacheLayer,
  pos: number,
  heads: number,
  scale: number,
): tf.Tensor {
  return runKernel(CACHED_ATTENTION, { cache, h, weight: layer.outWeight, bias: layer.outBias }, { pos, heads, scale });
}
