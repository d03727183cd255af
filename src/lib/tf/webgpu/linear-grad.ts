// The gradient of the fused Linear, y = post(pre(x)·Wᵀ + b) + r, from the same tiled product:
// dU = dy ⊙ post′(u) (u recomputed, gelu′ in the product's epilogue), dW = dUᵀ·pre(x),
// db = Σ_rows dU, d pre(x) = dU·W (⊙ gelu′(x) for pre = gelu, through LayerNorm's own
// gradient for pre = ln), dr = dy (summed over the repeats of a broadcast table).
import * as tf from '@tensorflow/tfjs';
import { registerGpuGradient, registerGpuKernel, run, runKernel, type GpuBackend } from './program';
import { matmulProgram, matmulUniforms } from './matmul';
import { GELU } from './wgsl';
import { inputNames, linearGpu, onLinearVariant, runLinear } from './linear';
import { groupSum } from './reduce';
import { layerNormGpu, layerNormGradients } from './layer-norm';

const MATMUL_DX = 'FarmerMatmulDx';
const MATMUL_DW = 'FarmerMatmulDw';

/** du [M, N] · W [N, K] → [M, K], times gelu′(x) when the forward applied GELU to x. */
registerGpuKernel(MATMUL_DX, ({ inputs, backend, attrs }) => {
  const { du, weight, x } = inputs as Record<string, tf.TensorInfo>;
  const [N, K] = weight.shape;
  const M = tf.util.sizeFromShape(du.shape) / N;
  const geluGrad = attrs.preGelu as boolean;
  const prog = matmulProgram({
    key: `dx_${+geluGrad}`,
    inputs: geluGrad ? ['du', 'weight', 'xs'] : ['du', 'weight'],
    outputShape: [...du.shape.slice(0, -1), K],
    M,
    N: K,
    loadA: `return du[i * ${'uniforms.k'} + t];`,
    loadB: 'return weight[t * uniforms.n + j];',
    epilogue: geluGrad ? 'return v * geluGrad(xs[i * uniforms.n + j]);' : 'return v;',
    helpers: GELU,
  });
  return run(backend as GpuBackend, prog, geluGrad ? [du, weight, x] : [du, weight], matmulUniforms(M, K, N));
});

/** du [M, N]ᵀ · pre(x) [M, K] → [N, K] (pre: GELU or nothing). */
registerGpuKernel(MATMUL_DW, ({ inputs, backend, attrs }) => {
  const { du, x } = inputs as Record<string, tf.TensorInfo>;
  const N = du.shape[du.shape.length - 1];
  const K = x.shape[x.shape.length - 1];
  const M = tf.util.sizeFromShape(du.shape) / N;
  const preGelu = attrs.preGelu as boolean;
  const prog = matmulProgram({
    key: `dw_${+preGelu}`,
    inputs: ['du', 'xs'],
    outputShape: [N, K],
    M: N,
    N: K,
    loadA: `return du[t * uniforms.m + i];`,
    loadB: preGelu ? 'return gelu(xs[t * uniforms.n + j]);' : 'return xs[t * uniforms.n + j];',
    helpers: GELU,
  });
  return run(backend as GpuBackend, prog, [du, x], matmulUniforms(N, K, M));
});

/** du·W, optionally times gelu′(x). */
export function matmulDx(du: tf.Tensor, weight: tf.Tensor, geluOf?: tf.Tensor): tf.Tensor {
  return runKernel(MATMUL_DX, geluOf ? { du, weight, x: geluOf } : { du, weight }, { preGelu: !!geluOf });
}

/** duᵀ·pre(x) summed over rows: a weight gradient [out, in]. */
export function matmulDw(du: tf.Tensor, x: tf.Tensor, preGelu = false): tf.Tensor2D {
  return runKernel<tf.Tensor2D>(MATMUL_DW, { du, x }, { preGelu });
}

onLinearVariant((kernelName, v) => {
  if (v.post === 'dgelu') return;
  const names = inputNames(v);
  registerGpuGradient({
    kernelName,
    inputsToSave: names,
    gradFunc: (dy, saved) => {
      const g = dy as tf.Tensor;
      const t = Object.fromEntries(names.map((n, i) => [n, saved[i]])) as Record<string, tf.Tensor>;
      const { x, weight, bias, gamma, beta, residual } = t;
      // dU, the gradient at the pre-activation u = pre(x)·Wᵀ + b: u recomputed, times gelu′(u)·dy
      const du = v.post === 'gelu' ? runLinear({ ...v, post: 'dgelu', residual: true }, { ...t, residual: g }) : g;
      const grads: Record<string, () => tf.Tensor> = {};
      if (v.pre === 'ln') {
        const ln = layerNormGradients(matmulDx(du, weight), x, gamma); // through LN(x)
        grads.x = ln.dx;
        grads.gamma = ln.dgamma;
        grads.beta = ln.dbeta;
        grads.weight = () => matmulDw(du, layerNormGpu(x, gamma, beta));
      } else {
        grads.x = () => matmulDx(du, weight, v.pre === 'gelu' ? x : undefined);
        grads.weight = () => matmulDw(du, x, v.pre === 'gelu');
      }
      if (bias) grads.bias = () => groupSum(du, 1).reshape(bias.shape);
      if (residual) {
        const N = weight.shape[0];
        const R = residual.size / N;
        grads.residual = () => (R === g.size / N ? g.clone() : groupSum(g, R)).reshape(residual.shape);
      }
      return grads;
    },
  });
});

export { linearGpu };
