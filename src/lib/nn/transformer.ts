// Pre-LN Transformer layers: h = h + Attn(LN₁(h)); h = h + MLP(LN₂(h)).
import * as tf from '@tensorflow/tfjs';
import { layerNormNamed, mlp } from './layers';
import { attention, attentionStep, KVCache, type AttentionOptions } from './attention';
import type { Params } from './params';
import { fusedDecodeFits, QkvCache, transformerStackGpu, transformerStackStepGpu } from './transformer-gpu';
import { fusedAvailable } from '../tf/webgpu/program';

/** The shape of a Transformer stack (the AF blocks' and the AR prior's). */
export interface TransformerConfig {
  /** residual width W */
  width: number;
  /** per-head width; W / head_dim heads */
  head_dim: number;
  /** MLP hidden = mlp_ratio · W */
  mlp_ratio: number;
}

export interface StackOptions {
  /** `{prefix}.layers.{j}` */
  prefix: string;
  layers: number;
  shape: TransformerConfig;
  causal: boolean;
  temperature?: number;
}

function attnOptions(o: StackOptions): AttentionOptions {
  return { heads: o.shape.width / o.shape.head_dim, causal: o.causal, temperature: o.temperature };
}

/** All layers over the full sequence h [B, T, W] (on webgpu: the fused kernels, transformer-gpu.ts). */
export function transformerStack(params: Params, h: tf.Tensor, o: StackOptions): tf.Tensor {
  if (fusedAvailable()) return transformerStackGpu(params, h, o);
  return tf.tidy(() => {
    const attn = attnOptions(o);
    for (let j = 0; j < o.layers; j++) {
      const l = `${o.prefix}.layers.${j}`;
      h = h.add(attention(params, `${l}.attn`, layerNormNamed(params, `${l}.attn_norm`, h), attn));
      h = h.add(mlp(params, `${l}.mlp`, layerNormNamed(params, `${l}.mlp_norm`, h)));
    }
    return h;
  });
}

/** A layer's key/value cache: per head (KVCache), or the fused kernels' packed qkv rows on webgpu. */
export type LayerCache = KVCache | QkvCache;

/** One cache per layer, for incremental decoding of up to `capacity` positions. */
export function createCaches(batch: number, capacity: number, o: StackOptions): LayerCache[] {
  if (fusedDecodeFits(capacity, o))
    return Array.from({ length: o.layers }, () => new QkvCache(batch, capacity, o.shape.width));
  const heads = o.shape.width / o.shape.head_dim;
  return Array.from({ length: o.layers }, () => new KVCache(batch, heads, o.shape.head_dim, capacity));
}

export function disposeCaches(caches: LayerCache[]): void {
  for (const c of caches) c.dispose();
}

/** Whether these caches are the fused kernels' (decoding runs on transformer-gpu.ts). */
export function fusedCaches(caches: LayerCache[]): caches is QkvCache[] {
  return caches[0] instanceof QkvCache;
}

/** All layers over new tokens h [B, Tn, W], attending to (and extending) the caches. */
export function transformerStackStep(params: Params, h: tf.Tensor, caches: LayerCache[], o: StackOptions): tf.Tensor {
  if (fusedCaches(caches)) return transformerStackStepGpu(params, h, caches, o);
  const attn = attnOptions(o);
  let x = h.clone();
  for (let j = 0; j < o.layers; j++) {
    const l = `${o.prefix}.layers.${j}`;
    const normed = layerNormNamed(params, `${l}.attn_norm`, x);
    const a = attentionStep(params, `${l}.attn`, normed, caches[j] as KVCache, attn);
    normed.dispose();
    const next = tf.tidy(() => {
      const y = x.add(a);
      return y.add(mlp(params, `${l}.mlp`, layerNormNamed(params, `${l}.mlp_norm`, y)));
    });
    a.dispose();
    x.dispose();
    x = next;
  }
  return x;
}
