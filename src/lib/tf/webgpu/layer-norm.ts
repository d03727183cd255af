// LayerNorm over the last axis in one dispatch (a workgroup per row), and its gradient:
// x̂ = (x − μ)·r with r = 1/√(var + eps); y = x̂·γ + β;
// dx = r·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ;  dγ = Σ_rows dy·x̂;  dβ = Σ_rows dy.
import * as tf from '@tensorflow/tfjs';
import { program, registerGpuGradient, registerGpuKernel, run, runKernel, type GpuBackend } from './program';
import { workgroupSum } from './wgsl';
import { groupSum, groupSumProgram, groupSumUniforms } from './reduce';

export const LN_EPS = 1e-5;
const THREADS = 64;

/** WGSL: mean and 1/√(var + eps) of row `row` (width uniforms.width) of `src`, for every thread of the workgroup. */
function rowStatsCode(src: string): string {
  return `
  ${workgroupSum(THREADS)}
  fn rowStats(row : i32, valid : bool, tid : i32) -> vec2<f32> {
    let base = row * uniforms.width;
    var s = 0.0;
    if (valid) { for (var c = tid; c < uniforms.width; c = c + ${THREADS}) { s = s + ${src}[base + c]; } }
    let mean = workgroupSum(s, tid) / f32(uniforms.width);
    var q = 0.0;
    if (valid) { for (var c = tid; c < uniforms.width; c = c + ${THREADS}) { let d = ${src}[base + c] - mean; q = q + d * d; } }
    return vec2<f32>(mean, 1.0 / sqrt(workgroupSum(q, tid) / f32(uniforms.width) + uniforms.eps));
  }`;
}

const uniformsOf = (rows: number, width: number) => [
  { type: 'int32' as const, data: [rows] },
  { type: 'int32' as const, data: [width] },
  { type: 'float32' as const, data: [LN_EPS] },
];
const UNIFORMS = 'rows : i32, width : i32, eps : f32,';

function shapeOf(x: tf.TensorInfo): { rows: number; width: number } {
  const width = x.shape[x.shape.length - 1];
  return { rows: tf.util.sizeFromShape(x.shape) / width, width };
}

const LAYER_NORM = 'FarmerLayerNorm';
const LAYER_NORM_DX = 'FarmerLayerNormDx';
const LAYER_NORM_DGAMMA = 'FarmerLayerNormDgamma';

registerGpuKernel(LAYER_NORM, ({ inputs, backend }) => {
  const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
  const { rows, width } = shapeOf(x);
  const prog = program({
    key: 'layernorm',
    inputs: ['xs', 'gamma', 'beta'],
    outputShape: x.shape,
    workgroups: rows,
    threads: THREADS,
    uniforms: UNIFORMS,
    code: `
  ${rowStatsCode('xs')}
  fn main(index : i32) {
    let row = workgroupIndex();
    let tid = i32(localId.x);
    let valid = row < uniforms.rows;
    let st = rowStats(row, valid, tid);
    if (valid) {
      let base = row * uniforms.width;
      for (var c = tid; c < uniforms.width; c = c + ${THREADS}) {
        result[base + c] = (xs[base + c] - st.x) * st.y * gamma[c] + beta[c];
      }
    }
  }`,
  });
  return run(backend as GpuBackend, prog, [x, gamma, beta], uniformsOf(rows, width));
});

registerGpuKernel(LAYER_NORM_DX, ({ inputs, backend }) => {
  const { dy, x, gamma } = inputs as Record<string, tf.TensorInfo>;
  const { rows, width } = shapeOf(x);
  const prog = program({
    key: 'layernorm_dx',
    inputs: ['dy', 'xs', 'gamma'],
    outputShape: x.shape,
    workgroups: rows,
    threads: THREADS,
    uniforms: UNIFORMS,
    code: `
  ${rowStatsCode('xs')}
  fn main(index : i32) {
    let row = workgroupIndex();
    let tid = i32(localId.x);
    let valid = row < uniforms.rows;
    let st = rowStats(row, valid, tid);
    let base = row * uniforms.width;
    var sg = 0.0;
    var sgx = 0.0;
    if (valid) {
      for (var c = tid; c < uniforms.width; c = c + ${THREADS}) {
        let g = dy[base + c] * gamma[c];
        sg = sg + g;
        sgx = sgx + g * (xs[base + c] - st.x) * st.y;
      }
    }
    let meanG = workgroupSum(sg, tid) / f32(uniforms.width);
    let meanGx = workgroupSum(sgx, tid) / f32(uniforms.width);
    if (valid) {
      for (var c = tid; c < uniforms.width; c = c + ${THREADS}) {
        let xhat = (xs[base + c] - st.x) * st.y;
        result[base + c] = st.y * (dy[base + c] * gamma[c] - meanG - xhat * meanGx);
      }
    }
  }`,
  });
  return run(backend as GpuBackend, prog, [dy, x, gamma], uniformsOf(rows, width));
});

/** dγ = Σ_rows dy·x̂: each thread recomputes its rows' statistics (cheap next to a dispatch). */
registerGpuKernel(LAYER_NORM_DGAMMA, ({ inputs, backend }) => {
  const { dy, x } = inputs as Record<string, tf.TensorInfo>;
  const { rows, width } = shapeOf(x);
  const prog = groupSumProgram({
    key: 'layernorm_dgamma',
    inputs: ['dy', 'xs'],
    value: 'dy[m * uniforms.cols + c] * xhat(m, c)',
    rows,
    cols: width,
    groups: 1,
  });
  const code = prog.getUserCode;
  prog.getUserCode = () => `
  fn xhat(m : i32, c : i32) -> f32 {
    let base = m * uniforms.cols;
    var s = 0.0;
    for (var k = 0; k < uniforms.cols; k = k + 1) { s = s + xs[base + k]; }
    let mean = s / f32(uniforms.cols);
    var q = 0.0;
    for (var k = 0; k < uniforms.cols; k = k + 1) { let d = xs[base + k] - mean; q = q + d * d; }
    return (xs[base + c] - mean) / sqrt(q / f32(uniforms.cols) + ${LN_EPS});
  }
  ${code()}`;
  return run(backend as GpuBackend, prog, [dy, x], groupSumUniforms(rows, width, 1));
});

registerGpuGradient({
  kernelName: LAYER_NORM,
  inputsToSave: ['x', 'gamma'],
  gradFunc: (dy, saved) => {
    const [x, gamma] = saved;
    const g = dy as tf.Tensor;
    return {
      x: () => runKernel(LAYER_NORM_DX, { dy: g, x, gamma }),
      gamma: () => runKernel(LAYER_NORM_DGAMMA, { dy: g, x }).reshape(gamma.shape),
      beta: () => groupSum(g, 1).reshape(gamma.shape),
    };
  },
});

/** LayerNorm over the last axis (biased variance, eps 1e-5) as one webgpu dispatch. */
export function layerNormGpu(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  return runKernel(LAYER_NORM, { x, gamma, beta });
}

/** dx of LayerNorm given dy (for fused ops whose gradient ends in a LayerNorm). */
export function layerNormGradients(
  dy: tf.Tensor,
  x: tf.Tensor,
  gamma: tf.Tensor,
): { dx: () => tf.Tensor; dgamma: () => tf.Tensor; dbeta: () => tf.Tensor } {
  return {
    dx: () => runKernel(LAYER_NORM_DX, { dy, x, gamma }),
    dgamma: () => runKernel(LAYER_NORM_DGAMMA, { dy, x }).reshape(gamma.shape),
    dbeta: () => groupSum(dy, 1).reshape(gamma.shape),
  };
}
