// Linear in one dispatch with what surrounds it folded in: y = post(pre(x)·Wᵀ + b) + r, where
// pre is LayerNorm (LN₁ before qkv, LN₂ before fc1) or exact GELU (the MLP's hidden activation,
// applied as fc2 reads it), post is exact GELU, and r a residual (the Transformer's skip; a
// [R, out] table is added to every block of R rows, as a positional embedding). W is [out, in]
// (PyTorch layout), read as is. Its gradient is a few more such products (linear-grad.ts).
import * as tf from '@tensorflow/tfjs';
import { registerGpuKernel, run, runKernel, type GpuBackend, type GpuProgram } from './program';
import { matmulProgram, matmulUniforms, tileRowStats } from './matmul';
import { GELU } from './wgsl';
import { LN_EPS } from './layer-norm';

export type Pre = 'none' | 'ln' | 'gelu';
/** `dgelu` (gradients only): the result times gelu′, elementwise by the upstream gradient given as the residual */
export type Post = 'none' | 'gelu' | 'dgelu';

export interface LinearVariant {
  pre: Pre;
  post: Post;
  bias: boolean;
  residual: boolean;
}

/** A row map of the cache-writing and last-row kernels: row(i) = ⌊i/g⌋·s + o + (i mod g). */
export interface RowMap {
  group: number;
  stride: number;
  offset: number;
}

export const IDENTITY_ROWS: RowMap = { group: 1 << 30, stride: 0, offset: 0 };

export function linearInputs(v: LinearVariant): string[] {
  return [
    'xs',
    'weight',
    ...(v.bias ? ['bias'] : []),
    ...(v.pre === 'ln' ? ['gamma', 'beta'] : []),
    ...(v.residual ? ['res'] : []),
  ];
}

/** rows of x × W [N, K] → [M, N] rows written where `outRows` maps them (into `outputShape`). */
export function linearProgram(
  v: LinearVariant,
  M: number,
  N: number,
  outputShape: number[],
  mapped = false,
): GpuProgram {
  const inRow = mapped ? '((I / uniforms.inG) * uniforms.inS + uniforms.inO + (I % uniforms.inG))' : 'I';
  const outRow = mapped ? '((i / uniforms.outG) * uniforms.outS + uniforms.outO + (i % uniforms.outG))' : 'i';
  const stats = v.pre === 'ln' ? tileRowStats('xs', inRow) : { helpers: '', prologue: '' };
  const x = `xs[${inRow.replace(/\bI\b/g, 'i')} * uniforms.k + t]`;
  const loadA =
    v.pre === 'ln'
      ? `return (${x} - rowMean[r]) * rowRstd[r] * gamma[t] + beta[t];`
      : v.pre === 'gelu'
        ? `return gelu(${x});`
        : `return ${x};`;
  let epilogue = v.bias ? 'var y = v + bias[j];' : 'var y = v;';
  if (v.post === 'gelu') epilogue += ' y = gelu(y);';
  if (v.post === 'dgelu') epilogue += ' y = res[i * uniforms.n + j] * geluGrad(y);';
  else if (v.residual) epilogue += ' y = y + res[(i % uniforms.resRows) * uniforms.n + j];';
  return matmulProgram({
    key: `linear_${v.pre}_${v.post}_${+v.bias}${+v.residual}${+mapped}`,
    inputs: linearInputs(v),
    outputShape,
    M,
    N,
    loadA,
    loadB: 'return weight[j * uniforms.k + t];',
    epilogue: `${epilogue} return y;`,
    store: `result[${outRow} * uniforms.n + j] = v;`,
    helpers: `${GELU}${stats.helpers}`,
    prologue: stats.prologue,
    uniforms: 'eps : f32, resRows : i32, inG : i32, inS : i32, inO : i32, outG : i32, outS : i32, outO : i32,',
  });
}

export function linearUniforms(
  M: number,
  N: number,
  K: number,
  resRows: number,
  inRows: RowMap = IDENTITY_ROWS,
  outRows: RowMap = IDENTITY_ROWS,
) {
  return [
    ...matmulUniforms(M, N, K),
    { type: 'float32' as const, data: [LN_EPS] },
    ...[resRows, inRows.group, inRows.stride, inRows.offset, outRows.group, outRows.stride, outRows.offset].map(
      (d) => ({ type: 'int32' as const, data: [d] }),
    ),
  ];
}

/** The tensor names of the op's inputs, in binding order. */
export function inputNames(v: LinearVariant): string[] {
  const names: Record<string, string> = {
    xs: 'x',
    weight: 'weight',
    bias: 'bias',
    gamma: 'gamma',
    beta: 'beta',
    res: 'residual',
  };
  return linearInputs(v).map((n) => names[n]);
}

/** One kernel name per variant: tfjs saves a gradient's inputs by name, and a variant lacks some. */
export function linearKernel(v: LinearVariant): string {
  return `FarmerLinear_${v.pre}_${v.post}_${v.bias ? 'b' : ''}${v.residual ? 'r' : ''}`;
}

const registered = new Set<string>();
const gradientHooks: ((name: string, v: LinearVariant) => void)[] = [];

/** linear-grad.ts registers each variant's gradient through this. */
export function onLinearVariant(hook: (name: string, v: LinearVariant) => void): void {
  gradientHooks.push(hook);
  for (const name of registered) hook(name, parseVariant(name));
}

function parseVariant(name: string): LinearVariant {
  const [, pre, post, flags] = name.split('_');
  return { pre: pre as Pre, post: post as Post, bias: flags.includes('b'), residual: flags.includes('r') };
}

/** Registers the variant's kernel (and, through the hooks, its gradient) on first use. */
export function ensureLinear(v: LinearVariant): string {
  const name = linearKernel(v);
  if (registered.has(name)) return name;
  registered.add(name);
  registerGpuKernel(name, ({ inputs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    const [N, K] = (inputs.weight as tf.TensorInfo).shape;
    const M = tf.util.sizeFromShape(x.shape) / K;
    const res = inputs.residual as tf.TensorInfo | undefined;
    const resRows = res && v.post !== 'dgelu' ? tf.util.sizeFromShape(res.shape) / N : 1;
    const prog = linearProgram(v, M, N, [...x.shape.slice(0, -1), N]);
    return run(
      backend as GpuBackend,
      prog,
      inputNames(v).map((n) => inputs[n] as tf.TensorInfo),
      linearUniforms(M, N, K, resRows),
    );
  });
  for (const hook of gradientHooks) hook(name, v);
  return name;
}

/** Runs a variant on named inputs. */
export function runLinear(v: LinearVariant, inputs: Record<string, tf.Tensor>): tf.Tensor {
  return runKernel(ensureLinear(v), Object.fromEntries(inputNames(v).map((n) => [n, inputs[n]])));
}

export interface LinearOptions {
  pre?: Pre;
  post?: 'none' | 'gelu';
  /** LayerNorm weight and bias, with pre = 'ln' */
  gamma?: tf.Tensor;
  beta?: tf.Tensor;
  /** added after the activation: [..., out] of x's rows, or [R, out] repeated over every R rows */
  residual?: tf.Tensor;
}

/** post(pre(x)·Wᵀ + b) + residual as one webgpu dispatch; x [..., in], W [out, in] → [..., out]. */
export function linearGpu(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | undefined,
  o: LinearOptions = {},
): tf.Tensor {
  const pre = o.pre ?? 'none';
  if (pre === 'ln' && !(o.gamma && o.beta)) throw new Error('linearGpu: pre = ln needs gamma and beta');
  const [N, K] = weight.shape;
  if (x.shape[x.rank - 1] !== K) throw new Error(`linearGpu: x [${x.shape}] does not match W [${weight.shape}]`);
  if (o.residual) {
    const M = x.size / K,
      R = o.residual.size / N;
    if (o.residual.shape[o.residual.rank - 1] !== N || M % R !== 0)
      throw new Error(`linearGpu: residual [${o.residual.shape}] does not fit [${M}, ${N}]`);
  }
  const v: LinearVariant = { pre, post: o.post ?? 'none', bias: !!bias, residual: !!o.residual };
  return runLinear(v, {
    x,
    weight,
    ...(bias ? { bias } : {}),
    ...(o.gamma ? { gamma: o.gamma } : {}),
    ...(o.beta ? { beta: o.beta } : {}),
    ...(o.residual ? { residual: o.residual } : {}),
  });
}
