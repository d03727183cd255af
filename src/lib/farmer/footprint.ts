// What one image of a FARMER batch holds on the fused GPU path, for batch-width.ts, in floats:
// - a forward analysis: the largest Transformer stack's activations (qkv, attention, two residual
//   rows and the MLP's: 6 widths a token a layer, alive until the stack returns), plus what every
//   block keeps (its input row, affine outputs, logdets) and the prior's heads;
// - sampling: the AR's KV caches (one of them counted twice: tfjs counts a buffer updated in place
//   under its old and new tensor for a moment), noise and token buffers, or one AF block's caches
//   and token buffers, whichever is more; denoising adds a forward pass and its gradient.
// tests/farmer/sampling-checks.ts holds them against tf.profile's peak on webgpu.
import type { FarmerConfig } from './config';
import { dimsOf } from './config';
import { floats, type Footprint } from '../tf/batch-width';

export function forwardFootprint(cfg: FarmerConfig): Footprint {
  const { tokens: N, tokenDim: d } = dimsOf(cfg);
  const W = cfg.af.width;
  let stack = cfg.af.layers_per_block * 6 * W * N;
  let kept = cfg.af.blocks * N * (2 * W + 12 * d);
  let largest = N * 3 * W;
  if (cfg.prior.kind === 'farmer') {
    const p = cfg.prior,
      A = p.ar.width,
      T = p.cond_repeat + N;
    const heads =
      N * p.mixtures_informative * (1 + 2 * p.informative_dims) +
      p.mixtures_redundant * (1 + 2 * (d - p.informative_dims));
    stack = Math.max(stack, p.ar.layers * 6 * A * T);
    kept += 3 * A * T + 4 * heads + 6 * N * p.mixtures_informative * p.informative_dims;
    largest = Math.max(largest, T * 3 * A, N * p.mixtures_informative * p.informative_dims);
  }
  return floats(largest, stack + kept);
}

export function samplingFootprint(cfg: FarmerConfig, denoise = false): Footprint {
  const { tokens: N, tokenDim: d } = dimsOf(cfg);
  const W = cfg.af.width;
  const afCache = N * 3 * W;
  const af = (cfg.af.layers_per_block + 1) * afCache + 6 * N * d + N * W + 8 * W;
  let ar = 0,
    largest = afCache;
  if (cfg.prior.kind === 'farmer') {
    const p = cfg.prior,
      A = p.ar.width,
      T = p.cond_repeat + N;
    const arCache = T * 3 * A;
    ar = (p.ar.layers + 1) * arCache + 4 * N * (1 + d) + 8 * A + 4 * p.mixtures_informative * (1 + 2 * d);
    largest = Math.max(largest, arCache);
  }
  const decode = floats(largest, Math.max(ar, af) + 3 * N * d); // the AR is done before the AF starts
  if (!denoise) return decode;
  const forward = forwardFootprint(cfg);
  return { largest: Math.max(decode.largest, forward.largest), total: decode.total + 3 * forward.total };
}
