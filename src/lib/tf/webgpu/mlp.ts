// The Transformer's MLP sublayer in one dispatch, a workgroup per row (the row and the hidden
// activations stay in shared memory): y = h + fc2(GELU(fc1(LN₂(h)))). Its gradient recomputes
// u = fc1(LN₂(h)) and runs the fused Linear's gradient pieces: 13 dispatches.
import * as tf from '@tensorflow/tfjs';
import {
  program,
  registerGpuGradient,
  registerGpuKernel,
  run,
  runKernel,
  sharedFloats,
  type GpuBackend,
} from './program';
import { GELU, workgroupSum } from './wgsl';
import { LN_EPS, layerNormGpu, layerNormGradients } from './layer-norm';
import { linearGpu } from './linear';
import { matmulDw, matmulDx } from './linear-grad';
import { groupSum } from './reduce';

const THREADS = 64;
const MLP = 'FarmerMlp';

/** Whether a row of width W and its hidden layer fit in one workgroup's shared memory. */
export function mlpFits(width: number, hidden: number): boolean {
  return width + hidden + THREADS <= sharedFloats();
}

registerGpuKernel(MLP, ({ inputs, backend }) => {
  const { h, gamma, beta, w1, b1, w2, b2 } = inputs as Record<string, tf.TensorInfo>;
  const [hidden, W] = w1.shape;
  const rows = tf.util.sizeFromShape(h.shape) / W;
  const prog = program({
    key: `mlp_${W}_${hidden}`,
    inputs: ['hs', 'gamma', 'beta', 'w1', 'b1', 'w2', 'b2'],
    outputShape: h.shape,
    workgroups: rows,
    threads: THREADS,
    uniforms: 'rows : i32,',
    code: `
  const WIDTH = ${W};
  const HIDDEN = ${hidden};
  var<workgroup> normed : array<f32, WIDTH>;
  var<workgroup> hid : array<f32, HIDDEN>;
  ${GELU}
  ${workgroupSum(THREADS)}
  fn main(index : i32) {
    let row = workgroupIndex();
    let tid = i32(localId.x);
    let valid = row < uniforms.rows;
    let base = row * WIDTH;
    var s = 0.0;
    if (valid) { for (var c = tid; c < WIDTH; c = c + ${THREADS}) { s = s + hs[base + c]; } }
    let mean = workgroupSum(s, tid) / f32(WIDTH);
    var q = 0.0;
    if (valid) { for (var c = tid; c < WIDTH; c = c + ${THREADS}) { let d = hs[base + c] - mean; q = q + d * d; } }
    let rstd = 1.0 / sqrt(workgroupSum(q, tid) / f32(WIDTH) + ${LN_EPS});
    if (valid) { for (var c = tid; c < WIDTH; c = c + ${THREADS}) { normed[c] = (hs[base + c] - mean) * rstd * gamma[c] + beta[c]; } }
    workgroupBarrier();
    if (valid) {
      for (var o = tid; o < HIDDEN; o = o + ${THREADS}) {
        var u = b1[o];
        for (var c = 0; c < WIDTH; c = c + 1) { u = u + w1[o * WIDTH + c] * normed[c]; }
        hid[o] = gelu(u);
      }
    }
    workgroupBarrier();
    if (valid) {
      for (var o = tid; o < WIDTH; o = o + ${THREADS}) {
        var y = b2[o] + hs[base + o];
        for (var c = 0; c < HIDDEN; c = c + 1) { y = y + w2[o * HIDDEN + c] * hid[c]; }
        result[base + o] = y;
      }
    }
  }`,
  });
  return run(backend as GpuBackend, prog, [h, gamma, beta, w1, b1, w2, b2], [{ type: 'int32', data: [rows] }]);
});

registerGpuGradient({
  kernelName: MLP,
  inputsToSave: ['h', 'gamma', 'beta', 'w1', 'b1', 'w2'],
  gradFunc: (dy, saved) => {
    const [h, gamma, beta, w1, b1, w2] = saved;
    const g = dy as tf.Tensor;
    const u = linearGpu(h, w1, b1, { pre: 'ln', gamma, beta }); // fc1's pre-activation
    const du = matmulDx(g, w2, u); // (dy·W₂) ⊙ gelu′(u)
    const ln = layerNormGradients(matmulDx(du, w1), h, gamma);
    return {
      h: () => g.add(ln.dx()),
      gamma: ln.dgamma,
      beta: ln.dbeta,
      w1: () => matmulDw(du, layerNormGpu(h, gamma, beta)),
      b1: () => groupSum(du, 1).reshape([w1.shape[0]]),
      w2: () => matmulDw(g, u, true),
      b2: () => groupSum(g, 1).reshape([w2.shape[0]]),
    };
  },
});

/** h + fc2(GELU(fc1(LN(h)))) in one webgpu dispatch (check mlpFits first). */
export function mlpGpu(
  h: tf.Tensor,
  p: { gamma: tf.Tensor; beta: tf.Tensor; w1: tf.Tensor; b1: tf.Tensor; w2: tf.Tensor; b2: tf.Tensor },
): tf.Tensor {
  const [hidden, W] = p.w1.shape;
  if (h.shape[h.rank - 1] !== W || p.w2.shape[0] !== W || p.w2.shape[1] !== hidden)
    throw new Error(`mlpGpu: h [${h.shape}], fc1 [${p.w1.shape}], fc2 [${p.w2.shape}] do not fit`);
  if (!mlpFits(W, hidden)) throw new Error(`mlpGpu: width ${W} + hidden ${hidden} exceed a workgroup's shared memory`);
  return runKernel(MLP, { h, ...p });
}
