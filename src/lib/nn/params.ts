// Weights by name, as every layer of nn/ reads them: a Map from the checkpoint's tensor names.
import * as tf from '@tensorflow/tfjs';

/** Model weights by name. Training stores tf.Variable here (a Tensor subclass). */
export type Params = Map<string, tf.Tensor>;

export function param(params: Params, name: string): tf.Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`missing parameter ${name}`);
  return t;
}

export function countParams(params: Params): number {
  let n = 0;
  for (const t of params.values()) n += t.size;
  return n;
}

export function disposeParams(params: Params): void {
  for (const t of params.values()) t.dispose();
}
