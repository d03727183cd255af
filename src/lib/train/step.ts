// One optimisation step: gradients of a scalar loss, global-norm clipping, skip-and-count of
// non-finite steps, AdamW update. Browser-safe: no Node APIs.
import * as tf from '@tensorflow/tfjs';
import type { Params } from '../farmer/params';
import type { AdamW } from './adamw';
import { flatten, layoutOf } from './flat';

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

/** Gradients of `lossFn` for every variable, clipped to global norm ≤ clip (0 = no clipping), then AdamW. */
export async function trainStep(vars: Map<string, tf.Variable>, lossFn: () => tf.Scalar, optimizer: AdamW, lr: number, clip = 1): Promise<StepResult> {
  const names = [...vars.keys()];
  const list = names.map((n) => vars.get(n)!);
  const { value, grads } = tf.variableGrads(lossFn, list);
  const byName = new Map<string, tf.Tensor>();
  names.forEach((n, i) => {
    const g = grads[list[i].name];
    if (g) byName.set(n, g);
  });
  // One flat vector: the norm, the clipping and AdamW are a few dozen kernels (flat.ts).
  const layout = layoutOf(byName);
  const flat = flatten(layout, byName);
  for (const g of byName.values()) g.dispose();
  const normT = tf.tidy(() => flat.square().sum().sqrt());
  const [loss, gradNorm] = [(await value.data())[0], (await normT.data())[0]];
  value.dispose();
  normT.dispose();
  const applied = Number.isFinite(loss) && Number.isFinite(gradNorm);
  if (applied) {
    const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
    const g = scale !== 1 ? tf.mul(flat, scale) as tf.Tensor1D : flat;
    optimizer.applyFlat(vars, layout, g, lr);
    if (g !== flat) g.dispose();
  }
  flat.dispose();
  return { loss, gradNorm, applied };
}
