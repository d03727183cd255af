// Linear, LayerNorm, exact GELU and the Transformer MLP, over tensors of any leading shape.
import * as tf from '@tensorflow/tfjs';
import { param, type Params } from './params';
import { fusedAvailable } from '../tf/webgpu/program';
import { linearGpu } from '../tf/webgpu/linear-grad';
import { layerNormGpu } from '../tf/webgpu/layer-norm';

/** x·Wᵀ + b with W in PyTorch layout [out, in]; an explicit transpose keeps wasm off its slow transposed matMul. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  if (fusedAvailable()) return linearGpu(x, weight, bias); // one dispatch, W read as is
  return tf.tidy(() => {
    const [out, inp] = weight.shape;
    const lead = x.shape.slice(0, -1);
    const x2 = x.reshape([-1, inp]); // [rows, in]
    let y = tf.matMul(x2, weight.transpose()); // [rows, out]
    if (bias) y = y.add(bias);
    return y.reshape([...lead, out]);
  });
}

/** The checkpoint's `{name}.weight` / `{name}.bias` Linear. */
export function linearNamed(params: Params, name: string, x: tf.Tensor): tf.Tensor {
  return linear(x, param(params, `${name}.weight`), params.get(`${name}.bias`));
}

/**
 * A Linear whose outputs are used in groups of `sizes` (qkv, affine a|b, GMM fields): one matMul
 * per group on a row block of the weight, which on wasm beats one matMul plus a split of the
 * activations along the last axis (a strided copy, forward and backward).
 */
export function linearSplit(params: Params, name: string, x: tf.Tensor, sizes: number[]): tf.Tensor[] {
  return tf.tidy(() => {
    const weight = param(params, `${name}.weight`);
    const bias = params.get(`${name}.bias`);
    // on webgpu a product costs a dispatch, not a copy: one product, then the split
    if (fusedAvailable()) return tf.split(linearGpu(x, weight, bias), sizes, -1);
    const out: tf.Tensor[] = [];
    let row = 0;
    for (const n of sizes) {
      out.push(linear(x, weight.slice([row, 0], [n, -1]), bias?.slice([row], [n])));
      row += n;
    }
    if (row !== weight.shape[0]) throw new Error(`${name}: groups ${sizes.join('+')} ≠ ${weight.shape[0]} outputs`);
    return out;
  });
}

/** LayerNorm over the last axis, biased variance, eps 1e-5. */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps = 1e-5): tf.Tensor {
  if (fusedAvailable() && eps === 1e-5) return layerNormGpu(x, weight, bias);
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const mean = x.mean(axis, true);
    const centered = x.sub(mean);
    const variance = centered.square().mean(axis, true);
    return centered.mul(variance.add(eps).rsqrt()).mul(weight).add(bias);
  });
}

export function layerNormNamed(params: Params, name: string, x: tf.Tensor): tf.Tensor {
  return layerNorm(x, param(params, `${name}.weight`), param(params, `${name}.bias`));
}

/** The Linear `name` after the LayerNorm `norm`: one dispatch on webgpu. */
export function linearAfterNorm(params: Params, norm: string, name: string, x: tf.Tensor): tf.Tensor {
  if (!fusedAvailable()) return linearNamed(params, name, layerNormNamed(params, norm, x));
  return linearGpu(x, param(params, `${name}.weight`), params.get(`${name}.bias`), {
    pre: 'ln',
    gamma: param(params, `${norm}.weight`),
    beta: param(params, `${norm}.bias`),
  });
}

/** Exact GELU: 0.5·u·(1 + erf(u/√2)). */
export function gelu(u: tf.Tensor): tf.Tensor {
  return tf.tidy(() => u.mul(0.5).mul(tf.erf(u.mul(Math.SQRT1_2)).add(1)));
}

/** fc2(GELU(fc1(h))) */
export function mlp(params: Params, name: string, h: tf.Tensor): tf.Tensor {
  return tf.tidy(() => linearNamed(params, `${name}.fc2`, gelu(linearNamed(params, `${name}.fc1`, h))));
}
