// AdamW on the GPU over flat moments: one dispatch updates both moments of every parameter,
// m ← β₁m + (1 − β₁)·c·g and v ← β₂v + (1 − β₂)·(c·g)² (c: the clipping scale), and one per
// parameter tensor writes w ← w·(1 − lr·λ) − lr·(m/c₁)/(√(v/c₂) + ε) straight from its slice of
// the flat moments, so nothing is split back or concatenated again.
import * as tf from '@tensorflow/tfjs';
import { groups, program, registerGpuKernel, run, runKernel, type GpuBackend } from './program';

const THREADS = 64;
const MOMENTS = 'FarmerAdamMoments';
const WEIGHTS = 'FarmerAdamWeights';

registerGpuKernel(MOMENTS, ({ inputs, backend, attrs }) => {
  const { moments, g } = inputs as Record<string, tf.TensorInfo>;
  const P = g.shape[0];
  const prog = program({
    key: 'adam_moments',
    inputs: ['moments', 'g'],
    outputShape: moments.shape,
    workgroups: groups(P, THREADS),
    threads: THREADS,
    uniforms: 'size : i32, beta1 : f32, beta2 : f32, clip : f32,',
    code: `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let gi = g[index] * uniforms.clip;
    result[index] = uniforms.beta1 * moments[index] + (1.0 - uniforms.beta1) * gi;
    result[uniforms.size + index] = uniforms.beta2 * moments[uniforms.size + index] + (1.0 - uniforms.beta2) * gi * gi;
  }`,
  });
  const uniforms = [
    { type: 'int32' as const, data: [P] },
    ...[attrs.beta1, attrs.beta2, attrs.clip].map((v) => ({ type: 'float32' as const, data: [v as number] })),
  ];
  return run(backend as GpuBackend, prog, [moments, g], uniforms);
});

registerGpuKernel(WEIGHTS, ({ inputs, backend, attrs }) => {
  const { w, moments } = inputs as Record<string, tf.TensorInfo>;
  const size = tf.util.sizeFromShape(w.shape);
  const P = moments.shape[1];
  const prog = program({
    key: 'adam_weights',
    inputs: ['w', 'moments'],
    outputShape: w.shape,
    workgroups: groups(size, THREADS),
    threads: THREADS,
    uniforms: 'size : i32, offset : i32, total : i32, keep : f32, lr : f32, c1 : f32, c2 : f32, eps : f32,',
    code: `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let m = moments[uniforms.offset + index] / uniforms.c1;
    let v = moments[uniforms.total + uniforms.offset + index] / uniforms.c2;
    result[index] = w[index] * uniforms.keep - uniforms.lr * m / (sqrt(v) + uniforms.eps);
  }`,
  });
  const uniforms = [
    ...[size, attrs.offset as number, P].map((v) => ({ type: 'int32' as const, data: [v] })),
    ...[attrs.keep, attrs.lr, attrs.c1, attrs.c2, attrs.eps].map((v) => ({
      type: 'float32' as const,
      data: [v as number],
    })),
  ];
  return run(backend as GpuBackend, prog, [w, moments], uniforms);
});

/** [2, P] moments (m; v) after one step with gradient g [P] times the clipping scale. */
export function adamMomentsGpu(
  moments: tf.Tensor2D,
  g: tf.Tensor1D,
  beta1: number,
  beta2: number,
  clip: number,
): tf.Tensor2D {
  return runKernel<tf.Tensor2D>(MOMENTS, { moments, g }, { beta1, beta2, clip });
}

export interface WeightStep {
  /** where this tensor's entries start in the flat vector */
  offset: number;
  /** 1 − lr·λ (λ = 0 for biases, norms and tables) */
  keep: number;
  lr: number;
  /** bias corrections 1 − β₁ᵗ, 1 − β₂ᵗ */
  c1: number;
  c2: number;
  eps: number;
}

/** The updated weights of one parameter tensor, from its slice of the flat moments. */
export function adamWeightsGpu(w: tf.Tensor, moments: tf.Tensor2D, s: WeightStep): tf.Tensor {
  return runKernel(WEIGHTS, { w, moments }, { ...s });
}
