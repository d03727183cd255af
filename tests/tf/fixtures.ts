// Backend-independent inputs for cross-backend checks: weights as Float32Arrays, made into
// tensors on whichever backend is active (moving tensors off a GPU backend needs readSync).
import * as tf from '@tensorflow/tfjs';
import type { Params } from '../../src/lib/nn/params';
import {
  createCaches,
  disposeCaches,
  transformerStack,
  transformerStackStep,
  type StackOptions,
} from '../../src/lib/nn/transformer';
import { Rng } from '../../src/lib/util/random';

export type HostParams = Map<string, { shape: number[]; values: Float32Array }>;

/** A pre-LN Transformer stack with the checkpoint's names under `prefix`, weights N(0, 0.3), norms around 1. */
export function stackWeights(o: StackOptions, seed: number): HostParams {
  const rng = new Rng(seed);
  const W = o.shape.width;
  const H = o.shape.mlp_ratio * W;
  const out: HostParams = new Map();
  const add = (name: string, shape: number[], mean = 0) => {
    const values = rng
      .normals(
        shape.reduce((a, b) => a * b, 1),
        0.3,
      )
      .map((v) => v + mean);
    out.set(name, { shape, values });
  };
  for (let j = 0; j < o.layers; j++) {
    const l = `${o.prefix}.layers.${j}`;
    add(`${l}.attn_norm.weight`, [W], 1);
    add(`${l}.attn_norm.bias`, [W]);
    add(`${l}.attn.qkv.weight`, [3 * W, W]);
    add(`${l}.attn.qkv.bias`, [3 * W]);
    add(`${l}.attn.out.weight`, [W, W]);
    add(`${l}.attn.out.bias`, [W]);
    add(`${l}.mlp_norm.weight`, [W], 1);
    add(`${l}.mlp_norm.bias`, [W]);
    add(`${l}.mlp.fc1.weight`, [H, W]);
    add(`${l}.mlp.fc1.bias`, [H]);
    add(`${l}.mlp.fc2.weight`, [W, H]);
    add(`${l}.mlp.fc2.bias`, [W]);
  }
  return out;
}

/** Tensors on the active backend. */
export function toParams(host: HostParams): Params {
  const params: Params = new Map();
  for (const [name, { shape, values }] of host) params.set(name, tf.tensor(values, shape));
  return params;
}

export const tinyStack: StackOptions = {
  prefix: 'ar',
  layers: 2,
  shape: { width: 16, head_dim: 8, mlp_ratio: 2 },
  causal: true,
};

export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`lengths differ: ${x.length} vs ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return Number.isNaN(m) ? Infinity : m;
}

/**
 * The stack over h [B, T, W] on the active backend: all positions at once, or (`cached`) one
 * token at a time through the key/value caches.
 */
export async function runStack(
  weights: HostParams,
  o: StackOptions,
  h: Float32Array,
  shape: [number, number, number],
  cached = false,
): Promise<Float32Array> {
  const params = toParams(weights);
  const x = tf.tensor3d(h, shape);
  const [B, T, W] = shape;
  let y: tf.Tensor;
  if (!cached) y = transformerStack(params, x, o);
  else {
    const caches = createCaches(B, T, o);
    const steps: tf.Tensor[] = [];
    for (let i = 0; i < T; i++) {
      const token = x.slice([0, i, 0], [B, 1, W]);
      steps.push(transformerStackStep(params, token, caches, o));
      token.dispose();
    }
    y = tf.concat(steps, 1);
    tf.dispose(steps);
    disposeCaches(caches);
  }
  const values = (await y.data()) as Float32Array;
  tf.dispose([x, y, ...params.values()]);
  return values;
}
