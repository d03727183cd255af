// One optimisation step: gradients of a scalar loss, global-norm clipping, skip-and-count of
// non-finite steps, AdamW update. Browser-safe: no Node APIs.
import * as tf from '@tensorflow/tfjs';
import type { Params } from '../farmer/params';
import type { AdamW } from './adamw';
import { flatten, flatUpdates, layoutOf } from './flat';

/** Trainable copies of the weights (unnamed: tfjs variable names are global). */
export function toVariables(params: Params): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const [name, t] of params) out.set(name, tf.variable(t, true));
  return out;
}

export interface StepResult {
  loss: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  /** false when the loss or a gradient was NaN/Inf and the update was skipped */
  applied: boolean;
}

/**
 * Gradients of `lossFn` for every variable, clipped to global norm ≤ clip (0 = no clipping), then
 * AdamW; over one flat vector on GPU backends (`flat`, default flatUpdates()), else tensor by tensor.
 */
export async function trainStep(vars: Map<string, tf.Variable>, lossFn: () => tf.Scalar, optimizer: AdamW, lr: number, clip = 1, flat = flatUpdates()): Promise<StepResult> {
  const names = [...vars.keys()];
  const list = names.map((n) => vars.get(n)!);
  const { value, grads } = tf.variableGrads(lossFn, list);
  const byName = new Map<string, tf.Tensor>();
  names.forEach((n, i) => {
    const g = grads[list[i].name];
    if (g) byName.set(n, g);
  });
  const result = flat ? await applyFlat(vars, byName, value, optimizer, lr, clip) : await applyPerTensor(vars, byName, value, optimizer, lr, clip);
  for (const g of byName.values()) g.dispose();
  value.dispose();
  return result;
}

/** Norm, clipping and AdamW tensor by tensor; the norm is a chain of adds (a tf.addN of ~175 inputs exceeds WebGPU's buffer limit). */
async function applyPerTensor(vars: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, value: tf.Scalar, optimizer: AdamW, lr: number, clip: number): Promise<StepResult> {
  const normT = tf.tidy(() => [...grads.values()].map((g) => g.square().sum()).reduce((a, b) => a.add(b)).sqrt());
  const [loss, gradNorm] = [(await value.data())[0], (await normT.data())[0]];
  normT.dispose();
  const applied = Number.isFinite(loss) && Number.isFinite(gradNorm);
  if (applied) {
    const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
    const scaled = scale === 1 ? grads : new Map([...grads].map(([n, g]) => [n, tf.mul(g, scale)]));
    optimizer.apply(vars, scaled, lr);
    if (scaled !== grads) for (const g of scaled.values()) g.dispose();
  }
  return { loss, gradNorm, applied };
}

/** The same on one flat vector: norm, clipping and AdamW in a few dozen kernels (flat.ts). */
async function applyFlat(vars: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, value: tf.Scalar, optimizer: AdamW, lr: number, clip: number): Promise<StepResult> {
  const layout = layoutOf(grads);
  const flat = flatten(layout, grads);
  const normT = tf.tidy(() => flat.square().sum().sqrt());
  const [loss, gradNorm] = [(await value.data())[0], (await normT.data())[0]];
  normT.dispose();
  const applied = Number.isFinite(loss) && Number.isFinite(gradNorm);
  if (applied) {
    const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
    const g = scale !== 1 ? (tf.mul(flat, scale) as tf.Tensor1D) : flat;
    optimizer.applyFlat(vars, layout, g, lr);
    if (g !== flat) g.dispose();
  }
  flat.dispose();
  return { loss, gradNorm, applied };
}
