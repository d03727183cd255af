// One optimisation step: gradients of a scalar loss, global-norm clipping, skip-and-count of
// non-finite steps, AdamW update. Browser-safe: no Node APIs.
import * as tf from '@tensorflow/tfjs';
import type { Params } from '../nn/params';
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

/** The loss and its gradient for every variable that has one, by the variables' own names; the caller disposes both. */
export function gradientsOf(
  vars: Map<string, tf.Variable>,
  lossFn: () => tf.Scalar,
): { value: tf.Scalar; grads: Map<string, tf.Tensor> } {
  const names = [...vars.keys()];
  const list = names.map((n) => vars.get(n)!);
  const { value, grads } = tf.variableGrads(lossFn, list);
  const byName = new Map<string, tf.Tensor>();
  names.forEach((n, i) => {
    const g = grads[list[i].name];
    if (g) byName.set(n, g);
  });
  return { value, grads: byName };
}

/**
 * Gradients of `lossFn` for every variable, clipped to global norm ≤ clip (0 = no clipping), then
 * AdamW; over one flat vector on GPU backends (`flat`, default flatUpdates()), else tensor by tensor.
 */
export async function trainStep(
  vars: Map<string, tf.Variable>,
  lossFn: () => tf.Scalar,
  optimizer: AdamW,
  lr: number,
  clip = 1,
  flat = flatUpdates(),
): Promise<StepResult> {
  const { value, grads } = gradientsOf(vars, lossFn);
  const result = await applyGradients(vars, grads, value, optimizer, lr, clip, flat);
  for (const g of grads.values()) g.dispose();
  value.dispose();
  return result;
}

/**
 * Clips `grads` to global norm ≤ clip and applies AdamW, unless `loss` or the norm is not finite;
 * the gradients and the loss stay the caller's. `loss` is a scalar tensor or an already-read number.
 */
export async function applyGradients(
  vars: Map<string, tf.Variable>,
  grads: Map<string, tf.Tensor>,
  loss: tf.Scalar | number,
  optimizer: AdamW,
  lr: number,
  clip = 1,
  flat = flatUpdates(),
): Promise<StepResult> {
  if (flat) {
    // one flat vector: norm, clipping and AdamW in a few dozen kernels (flat.ts)
    const layout = layoutOf(grads);
    const g = flatten(layout, grads);
    const result = await clipAndApply(
      loss,
      tf.tidy(() => g.square().sum().sqrt()),
      clip,
      (scale) => optimizer.applyFlat(vars, layout, g, lr, scale),
    );
    g.dispose();
    return result;
  }
  // tensor by tensor; the norm is a chain of adds (a tf.addN of ~175 inputs exceeds WebGPU's buffer limit)
  const normT = tf.tidy(() =>
    [...grads.values()]
      .map((g) => g.square().sum())
      .reduce((a, b) => a.add(b))
      .sqrt(),
  );
  return clipAndApply(loss, normT, clip, (scale) => {
    const scaled = scale === 1 ? grads : new Map([...grads].map(([n, g]) => [n, tf.mul(g, scale)]));
    optimizer.apply(vars, scaled, lr);
    if (scaled !== grads) for (const g of scaled.values()) g.dispose();
  });
}

/** Reads the loss and the global norm; applies `update` with the clipping scale only when both are finite. */
async function clipAndApply(
  value: tf.Scalar | number,
  normT: tf.Tensor,
  clip: number,
  update: (scale: number) => void,
): Promise<StepResult> {
  const loss = typeof value === 'number' ? value : (await value.data())[0];
  const gradNorm = (await normT.data())[0];
  normT.dispose();
  const applied = Number.isFinite(loss) && Number.isFinite(gradNorm);
  if (applied) update(clip > 0 && gradNorm > clip ? clip / gradNorm : 1);
  return { loss, gradNorm, applied };
}
