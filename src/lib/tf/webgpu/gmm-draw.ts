// The GMM draw of a token on the GPU (docs/model.md, "Sampling"; supplementary §7), from a head
// output laid out [logits K | means K·d | raw K·d] and noise drawn on the CPU by the seeded generator (one uniform
// for the component, d normals), so the result is the CPU sampler's for the same numbers:
// k = the first component whose cumulative softmax(logits/T) weight exceeds u; z = μ_k + s·σ_k ⊙ ε,
// σ = max(square_plus(raw), 1e-6). And the assembly of Z from the informative tokens (in AR order)
// and the redundant ones.
import * as tf from '@tensorflow/tfjs';
import { groups, program, registerGpuKernel, run, runKernel, sameBuffer, type GpuBackend } from './program';

const THREADS = 64;
const GMM_DRAW = 'FarmerGmmDraw';
const ASSEMBLE = 'FarmerAssembleLatent';

registerGpuKernel(GMM_DRAW, ({ inputs, backend, attrs }) => {
  const { head, noise, into } = inputs as Record<string, tf.TensorInfo>;
  const K = attrs.K as number,
    d = attrs.d as number,
    draws = attrs.draws as number;
  const B = head.shape[0];
  const outShape = into ? into.shape : [B, draws, d];
  const rowsPerImage = outShape[1];
  const prog = program({
    key: 'gmm_draw',
    inputs: ['head', 'noise'],
    outputShape: outShape,
    workgroups: groups(B * draws, THREADS),
    threads: THREADS,
    uniforms:
      'total : i32, draws : i32, K : i32, d : i32, noiseOffset : i32, rowsPerImage : i32, row : i32, invT : f32, s : f32,',
    code: `
  fn squarePlus(r : f32) -> f32 {
    if (r >= 0.0) { return (r + sqrt(r * r + 4.0)) * 0.5; }
    return 2.0 / (sqrt(r * r + 4.0) - r);
  }
  fn main(index : i32) {
    if (index >= uniforms.total) { return; }
    let b = index / uniforms.draws;
    let g = index % uniforms.draws;
    let width = uniforms.K * (1 + 2 * uniforms.d);
    let hBase = b * width;
    let nBase = uniforms.noiseOffset + index * (1 + uniforms.d);
    var m = -3.0e38;
    for (var k = 0; k < uniforms.K; k = k + 1) { m = max(m, head[hBase + k] * uniforms.invT); }
    var total = 0.0;
    for (var k = 0; k < uniforms.K; k = k + 1) { total = total + exp(head[hBase + k] * uniforms.invT - m); }
    var u = noise[nBase] * total;
    var pick = uniforms.K - 1;
    for (var k = 0; k < uniforms.K; k = k + 1) {
      u = u - exp(head[hBase + k] * uniforms.invT - m);
      if (u < 0.0) { pick = k; break; }
    }
    let out = (b * uniforms.rowsPerImage + uniforms.row + g) * uniforms.d;
    for (var j = 0; j < uniforms.d; j = j + 1) {
      let mu = head[hBase + uniforms.K + pick * uniforms.d + j];
      let sigma = max(squarePlus(head[hBase + uniforms.K + uniforms.K * uniforms.d + pick * uniforms.d + j]), 1e-6);
      result[out + j] = mu + uniforms.s * sigma * noise[nBase + 1 + j];
    }
  }`,
  });
  const uniforms = [
    ...[B * draws, draws, K, d, attrs.noiseOffset as number, rowsPerImage, attrs.row as number].map((v) => ({
      type: 'int32' as const,
      data: [v],
    })),
    { type: 'float32' as const, data: [1 / (attrs.T as number)] },
    { type: 'float32' as const, data: [attrs.s as number] },
  ];
  if (!into) return run(backend as GpuBackend, prog, [head, noise], uniforms);
  run(backend as GpuBackend, prog, [head, noise], uniforms, into);
  return sameBuffer(backend as GpuBackend, into);
});

registerGpuKernel(ASSEMBLE, ({ inputs, backend, attrs }) => {
  const { informative, redundant } = inputs as Record<string, tf.TensorInfo>;
  const [B, N, dI] = informative.shape;
  const dR = redundant ? redundant.shape[2] : 0;
  const d = dI + dR;
  const flip = attrs.flip as boolean;
  const prog = program({
    key: `assemble_latent_${+flip}_${+!!redundant}`,
    inputs: redundant ? ['info', 'red'] : ['info'],
    outputShape: [B, N, d],
    workgroups: groups(B * N * d, THREADS),
    threads: THREADS,
    uniforms: 'total : i32, seq : i32, d : i32, dI : i32,',
    code: `
  fn main(index : i32) {
    if (index >= uniforms.total) { return; }
    let c = index % uniforms.d;
    let t = (index / uniforms.d) % uniforms.seq;
    let b = index / (uniforms.d * uniforms.seq);
    if (c < uniforms.dI) {
      let arPos = ${flip ? 'uniforms.seq - 1 - t' : 't'};
      result[index] = info[(b * uniforms.seq + arPos) * uniforms.dI + c];
    } else {
      ${redundant ? 'result[index] = red[(b * uniforms.seq + t) * (uniforms.d - uniforms.dI) + c - uniforms.dI];' : ''}
    }
  }`,
  });
  const uniforms = [B * N * d, N, d, dI].map((v) => ({ type: 'int32' as const, data: [v] }));
  return run(backend as GpuBackend, prog, redundant ? [informative, redundant] : [informative], uniforms);
});

export interface DrawOptions {
  K: number;
  d: number;
  /** mixture temperature (logits divided by it) and Gaussian scale */
  T: number;
  s: number;
}

/**
 * One informative token per image from head [B, K(1 + 2d)], written in place at row `row` of
 * `tokens` [B, N, d]; its noise is noise[offset + b·(1 + d) …] (u, then d normals).
 */
export function drawTokenInto(
  tokens: tf.Tensor3D,
  head: tf.Tensor2D,
  noise: tf.Tensor1D,
  offset: number,
  row: number,
  o: DrawOptions,
): tf.Tensor3D {
  return runKernel<tf.Tensor3D>(GMM_DRAW, { head, noise, into: tokens }, { ...o, draws: 1, noiseOffset: offset, row });
}

/** `draws` tokens per image from one mixture per image, head [B, K(1 + 2d)], noise [B, draws, 1 + d] → [B, draws, d]. */
export function drawTokens(head: tf.Tensor2D, noise: tf.Tensor, draws: number, o: DrawOptions): tf.Tensor3D {
  if (noise.size !== head.shape[0] * draws * (1 + o.d))
    throw new Error(`drawTokens: noise of ${noise.size} values for ${head.shape[0]} × ${draws} draws of ${1 + o.d}`);
  return runKernel<tf.Tensor3D>(GMM_DRAW, { head, noise }, { ...o, draws, noiseOffset: 0, row: 0 });
}

/** Z [B, N, d]: informative channels from the AR-order tokens (reversed when the AR reads flipped), then the redundant ones. */
export function assembleLatent(informative: tf.Tensor3D, redundant: tf.Tensor3D | null, flip: boolean): tf.Tensor3D {
  return runKernel<tf.Tensor3D>(ASSEMBLE, redundant ? { informative, redundant } : { informative }, { flip });
}
