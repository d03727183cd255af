// Pre-LN Transformer layers: h = h + Attn(LN₁(h)); h = h + MLP(LN₂(h)).
import * as tf from '@tensorflow/tfjs';
import { layerNormNamed, mlp } from './layers';
import { attention, attentionStep, KVCache, type AttentionOptions } from './attention';
import type { Params } from './params';

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

/** All layers over the full sequence h [B, T, W]. */
export function transformerStack(params: Params, h: tf.Tensor, o: StackOptions): tf.Tensor {
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

/** One cache per layer, for incremental decoding of up to `capacity` positions. */
export function createCaches(batch: number, capacity: number, o: StackOptions): KVCache[] {
  const heads = o.shape.width / o.shape.head_dim;
  return Array.from({ length: o.layers }, () => new KVCache(batch, heads, o.shape.head_dim, capacity));
}

export function disposeCaches(caches: KVCache[]): void {
  for (const c of caches) c.dispose();
}

/** All layers over new tokens h [B, Tn, W], attending to (and extending) the caches. */
export function transformerStackStep(params: Params, h: tf.Tensor, caches: KVCache[], o: StackOptions): tf.Tensor {
  const attn = attnOptions(o);
  let x = h.clone();
  for (let j = 0; j < o.layers; j++) {
    const l = `${o.prefix}.layers.${j}`;
    const normed = layerNormNamed(params, `${l}.attn_norm`, x);
    const a = attentionStep(params, `${l}.attn`, normed, caches[j], attn);
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
