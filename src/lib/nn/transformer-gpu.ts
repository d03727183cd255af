// The pre-LN Transformer stack on the fused WebGPU kernels (tf/webgpu): over a full sequence four
// dispatches a layer (LN₁ + qkv, attention, out + residual, the MLP sublayer), and per decoding
// step three (LN₁ + qkv into the cache, cached attention + out + residual, the MLP sublayer).
// The same equations as transformer.ts; wasm and cpu keep that file's composition.
import * as tf from '@tensorflow/tfjs';
import { param, type Params } from './params';
import type { StackOptions } from './transformer';
import { fusedAvailable } from '../tf/webgpu/program';
import { linearGpu } from '../tf/webgpu/linear-grad';
import { attentionGpu } from '../tf/webgpu/attention';
import { mlpFits, mlpGpu } from '../tf/webgpu/mlp';
import { attendCached, cachedAttentionFits, createQkvCache, writeQkv, type CacheLayer } from '../tf/webgpu/kv-cache';

const heads = (o: StackOptions) => o.shape.width / o.shape.head_dim;
/** logits·s, s = 1/(√head_dim · temperature) */
const scale = (o: StackOptions) => 1 / (Math.sqrt(o.shape.head_dim) * (o.temperature ?? 1));

function cacheLayer(params: Params, l: string): CacheLayer {
  return {
    gamma: param(params, `${l}.attn_norm.weight`),
    beta: param(params, `${l}.attn_norm.bias`),
    qkvWeight: param(params, `${l}.attn.qkv.weight`),
    qkvBias: param(params, `${l}.attn.qkv.bias`),
    outWeight: param(params, `${l}.attn.out.weight`),
    outBias: param(params, `${l}.attn.out.bias`),
  };
}

/** h + fc2(GELU(fc1(LN₂(h)))): one row kernel, or two fused Linears when a row does not fit one workgroup. */
function mlpSublayer(params: Params, l: string, h: tf.Tensor, o: StackOptions): tf.Tensor {
  const m = {
    gamma: param(params, `${l}.mlp_norm.weight`),
    beta: param(params, `${l}.mlp_norm.bias`),
    w1: param(params, `${l}.mlp.fc1.weight`),
    b1: param(params, `${l}.mlp.fc1.bias`),
    w2: param(params, `${l}.mlp.fc2.weight`),
    b2: param(params, `${l}.mlp.fc2.bias`),
  };
  if (mlpFits(o.shape.width, o.shape.mlp_ratio * o.shape.width)) return mlpGpu(h, m);
  const u = linearGpu(h, m.w1, m.b1, { pre: 'ln', gamma: m.gamma, beta: m.beta });
  return linearGpu(u, m.w2, m.b2, { pre: 'gelu', residual: h });
}

/** All layers over the full sequence h [B, T, W]. */
export function transformerStackGpu(params: Params, h: tf.Tensor, o: StackOptions): tf.Tensor {
  return tf.tidy(() => {
    for (let j = 0; j < o.layers; j++) {
      const l = `${o.prefix}.layers.${j}`;
      const c = cacheLayer(params, l);
      const qkv = linearGpu(h, c.qkvWeight, c.qkvBias, { pre: 'ln', gamma: c.gamma, beta: c.beta }) as tf.Tensor3D; // [B, T, 3W]
      const attn = attentionGpu(qkv, { heads: heads(o), causal: o.causal, scale: scale(o) }); // [B, T, W]
      h = linearGpu(attn, c.outWeight, c.outBias, { residual: h });
      h = mlpSublayer(params, l, h, o);
    }
    return h;
  });
}

/** One layer's cache: LN₁(h)·W_qkvᵀ + b of every position decoded so far, [B, capacity, 3W]. */
export class QkvCache {
  qkv: tf.Tensor3D;
  /** positions filled so far */
  length = 0;

  constructor(
    readonly batch: number,
    readonly capacity: number,
    width: number,
  ) {
    this.qkv = tf.keep(createQkvCache(batch, capacity, width));
  }

  dispose(): void {
    this.qkv.dispose();
  }
}

/** Whether decoding `capacity` positions fits the fused cached attention (its scores sit in shared memory). */
export function fusedDecodeFits(capacity: number, o: StackOptions): boolean {
  return fusedAvailable() && cachedAttentionFits(o.shape.width, heads(o), capacity);
}

/** All layers over new tokens h [B, Tn, W] at the caches' next positions, extending them. */
export function transformerStackStepGpu(params: Params, h: tf.Tensor, caches: QkvCache[], o: StackOptions): tf.Tensor {
  const pos = caches[0].length;
  let x = h;
  for (let j = 0; j < o.layers; j++) {
    const l = `${o.prefix}.layers.${j}`;
    const layer = cacheLayer(params, l);
    const cache = caches[j];
    const written = writeQkv(cache.qkv, x, layer, pos);
    cache.qkv.dispose();
    cache.qkv = tf.keep(written);
    cache.length = pos + x.shape[1]!;
    const next = tf.tidy(() => mlpSublayer(params, l, attendCached(cache.qkv, x, layer, pos, heads(o), scale(o)), o));
    if (x !== h) x.dispose();
    x = next;
  }
  return x === h ? h.clone() : x;
}
