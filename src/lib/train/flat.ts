// Many parameter-shaped tensors as one flat vector and back. An optimizer step over one vector
// is a few dozen kernels instead of a dozen per parameter tensor: on WebGPU, where tfjs is bound
// by kernel dispatch, the per-tensor AdamW, EMA and gradient norm were over half of a training
// step's kernels (README, Benchmarks). On wasm and cpu a kernel is cheap but every Slice copies
// its whole input first, so splitting the vector back costs more than it saves (a training step
// 1.3 s → 3.2 s): there the update stays per tensor.
import * as tf from '@tensorflow/tfjs';

/** Which tensors, in which order, with which shapes. */
export interface FlatLayout {
  names: string[];
  shapes: number[][];
  sizes: number[];
}

export function layoutOf(tensors: Map<string, tf.Tensor>): FlatLayout {
  const names = [...tensors.keys()];
  const shapes = names.map((n) => tensors.get(n)!.shape);
  return { names, shapes, sizes: shapes.map((s) => s.reduce((a, b) => a * b, 1)) };
}

/** [Σ sizes]: the tensors of `layout`, taken by name from `tensors`, one after another; a missing one is an error, or zeros if `zerosForMissing`. */
export function flatten(layout: FlatLayout, tensors: Map<string, tf.Tensor>, zerosForMissing = false): tf.Tensor1D {
  return tf.tidy(
    () =>
      tf.concat(
        layout.names.map((n, i) => {
          const t = tensors.get(n);
          if (t) return t.reshape([-1]);
          if (zerosForMissing) return tf.zeros([layout.sizes[i]]);
          throw new Error(`flatten: no tensor ${n}`);
        }),
      ) as tf.Tensor1D,
  );
}

/** The inverse of flatten: one tensor per name of the layout, in its order and shapes. */
export function unflatten(layout: FlatLayout, flat: tf.Tensor1D): tf.Tensor[] {
  return tf.tidy(() => tf.split(flat, layout.sizes).map((part, i) => part.reshape(layout.shapes[i])));
}

let forced: boolean | null = null;

/** Whether the active backend should update parameters as one flat vector (GPU backends, unless forced). */
export function flatUpdates(): boolean {
  if (forced !== null) return forced;
  const b = tf.getBackend();
  return b === 'webgpu' || b === 'webgl';
}

/** Forces the flat (true) or per-tensor (false) update on every backend, or restores the default (null): for tests and benchmarks. */
export function forceFlatUpdates(on: boolean | null): void {
  forced = on;
}

/** ema ← decay·ema + (1 − decay)·vars for every tensor of `ema`, flat where flatUpdates(). */
export function updateEma(
  ema: Map<string, tf.Tensor>,
  vars: Map<string, tf.Tensor>,
  decay: number,
  flat = flatUpdates(),
): void {
  if (!flat) {
    for (const [n, old] of ema) {
      ema.set(n, tf.keep(tf.tidy(() => old.mul(decay).add(vars.get(n)!.mul(1 - decay)))));
      old.dispose();
    }
    return;
  }
  const layout = layoutOf(ema);
  const next = tf.tidy(() =>
    unflatten(
      layout,
      flatten(layout, ema)
        .mul(decay)
        .add(flatten(layout, vars).mul(1 - decay)) as tf.Tensor1D,
    ),
  );
  layout.names.forEach((n, i) => {
    ema.get(n)!.dispose();
    ema.set(n, tf.keep(next[i]));
  });
}
