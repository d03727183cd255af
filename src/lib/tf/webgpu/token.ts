// One token at a time, for the sequential paths: its embedding (read from a token buffer at a
// position, plus a positional row and an optional per-image vector), and the AF's affine update
// (Eq. 8 inverted: the block output through proj_out gives (a, b) for the next token, whose value
// x̃_{i+1} = z̃_{i+1} ⊙ exp(a) + b is written into the token buffer in place).
import * as tf from '@tensorflow/tfjs';
import { groups, program, registerGpuKernel, run, runKernel, sameBuffer, type GpuBackend } from './program';

const THREADS = 64;
const EMBED_TOKEN = 'FarmerEmbedToken';
const AFFINE_TOKEN = 'FarmerAffineToken';
const COPY = 'FarmerCopy';

registerGpuKernel(EMBED_TOKEN, ({ inputs, backend, attrs }) => {
  const { src, weight, bias, pos, extra } = inputs as Record<string, tf.TensorInfo>;
  const [B, S, din] = src.shape;
  const W = weight.shape[0];
  const prog = program({
    key: `embed_token_${+!!extra}`,
    inputs: extra ? ['src', 'weight', 'bias', 'pos', 'extra'] : ['src', 'weight', 'bias', 'pos'],
    outputShape: [B, 1, W],
    workgroups: groups(B * W, THREADS),
    threads: THREADS,
    uniforms: 'total : i32, width : i32, din : i32, seq : i32, row : i32, posRow : i32,',
    code: `
  fn main(index : i32) {
    if (index >= uniforms.total) { return; }
    let b = index / uniforms.width;
    let o = index % uniforms.width;
    let x = (b * uniforms.seq + uniforms.row) * uniforms.din;
    var y = bias[o] + pos[uniforms.posRow * uniforms.width + o];
    for (var c = 0; c < uniforms.din; c = c + 1) { y = y + weight[o * uniforms.din + c] * src[x + c]; }
    ${extra ? 'y = y + extra[b * uniforms.width + o];' : ''}
    result[index] = y;
  }`,
  });
  const uniforms = [B * W, W, din, S, attrs.row as number, attrs.posRow as number].map((d) => ({
    type: 'int32' as const,
    data: [d],
  }));
  return run(backend as GpuBackend, prog, extra ? [src, weight, bias, pos, extra] : [src, weight, bias, pos], uniforms);
});

registerGpuKernel(AFFINE_TOKEN, ({ inputs, backend, attrs }) => {
  const { h, weight, bias, z, tokens } = inputs as Record<string, tf.TensorInfo>;
  const [B, N, d] = z.shape;
  const W = weight.shape[1];
  const clip = attrs.softClip as number;
  const prog = program({
    key: `affine_token_${+(clip > 0)}`,
    inputs: ['hs', 'weight', 'bias', 'z'],
    outputShape: tokens.shape,
    workgroups: groups(B * d, THREADS),
    threads: THREADS,
    uniforms: 'total : i32, d : i32, width : i32, seq : i32, row : i32, clip : f32,',
    code: `
  fn clipped(v : f32) -> f32 { ${clip > 0 ? 'return uniforms.clip * tanh(v / uniforms.clip);' : 'return v;'} }
  fn main(index : i32) {
    if (index >= uniforms.total) { return; }
    let b = index / uniforms.d;
    let j = index % uniforms.d;
    var a = bias[j];
    var s = bias[uniforms.d + j];
    for (var c = 0; c < uniforms.width; c = c + 1) {
      let hv = hs[b * uniforms.width + c];
      a = a + weight[j * uniforms.width + c] * hv;
      s = s + weight[(uniforms.d + j) * uniforms.width + c] * hv;
    }
    let at = (b * uniforms.seq + uniforms.row) * uniforms.d + j;
    result[at] = z[at] * exp(clipped(a)) + clipped(s);
  }`,
  });
  const uniforms = [
    ...[B * d, d, W, N, attrs.row as number].map((v) => ({ type: 'int32' as const, data: [v] })),
    { type: 'float32' as const, data: [clip] },
  ];
  run(backend as GpuBackend, prog, [h, weight, bias, z], uniforms, tokens);
  return sameBuffer(backend as GpuBackend, tokens);
});

registerGpuKernel(COPY, ({ inputs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  const n = tf.util.sizeFromShape(x.shape);
  const prog = program({
    key: 'copy',
    inputs: ['xs'],
    outputShape: x.shape,
    workgroups: groups(n, THREADS),
    threads: THREADS,
    uniforms: 'total : i32,',
    code: `
  fn main(index : i32) {
    if (index < uniforms.total) { result[index] = xs[index]; }
  }`,
  });
  return run(backend as GpuBackend, prog, [x], [{ type: 'int32', data: [n] }]);
});

/**
 * src[:, row]·Wᵀ + b + pos[posRow] (+ extra[b]) → [B, 1, W]: a token embedding read from a token
 * buffer src [B, S, d_in] by position, without slicing it out first.
 */
export function embedToken(
  src: tf.Tensor3D,
  weight: tf.Tensor,
  bias: tf.Tensor,
  pos: tf.Tensor2D,
  row: number,
  posRow: number,
  extra?: tf.Tensor,
): tf.Tensor3D {
  const inputs: Record<string, tf.Tensor> = { src, weight, bias, pos };
  if (extra) inputs.extra = extra;
  return runKernel<tf.Tensor3D>(EMBED_TOKEN, inputs, { row, posRow });
}

/**
 * (a, b) = split(clip(h·W_outᵀ + b_out)) for h [B, 1, W]; tokens[:, row] = z[:, row] ⊙ exp(a) + b,
 * in place (the returned tensor shares the token buffer's storage).
 */
export function affineToken(
  tokens: tf.Tensor3D,
  h: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor,
  z: tf.Tensor3D,
  row: number,
  softClip: number,
): tf.Tensor3D {
  if (tokens.shape.join() !== z.shape.join())
    throw new Error(`affineToken: tokens [${tokens.shape}] and z [${z.shape}] differ`);
  return runKernel<tf.Tensor3D>(AFFINE_TOKEN, { h, weight, bias, z, tokens }, { row, softClip });
}

/** A copy in a buffer of its own, safe to update in place. */
export function freshCopy<T extends tf.Tensor>(x: T): T {
  return runKernel<T>(COPY, { x });
}
