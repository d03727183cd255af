// Pixels ↔ model space and dequantization (docs/model.md, "Pixels and dequantization"). Noise
// comes from the seeded Rng, never from tfjs random ops, so results depend on the seed alone.
// No tfjs here: pages may import it.
import type { Dequantization } from '../farmer/config';
import type { Rng } from '../util/random';

/** σ(t) = σ_min + (σ_max − σ_min)·(1 + cos(π t))/2, t = training progress in [0, 1]. */
export function gaussianSigma(t: number, sigmaMin = 0.005, sigmaMax = 0.1): number {
  const p = Math.min(1, Math.max(0, t));
  return sigmaMin + ((sigmaMax - sigmaMin) * (1 + Math.cos(Math.PI * p))) / 2;
}

/** The gaussian noise level at training progress t ∈ [0, 1]: the cosine schedule, or σ_max throughout (`fixed`). */
export function trainingSigma(dq: Extract<Dequantization, { kind: 'gaussian' }>, t: number): number {
  return dq.schedule === 'fixed' ? dq.sigma_max : gaussianSigma(t, dq.sigma_min, dq.sigma_max);
}

/** uniform: x = (x_int + u)/128 − 1, u ~ U[0, 1) per sub-pixel. */
export function dequantizeUniform(pixels: ArrayLike<number>, rng: Rng): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < out.length; i++) out[i] = (pixels[i] + rng.uniform()) / 128 - 1;
  return out;
}

/** gaussian: x = x_int/127.5 − 1 + σ·ε, ε ~ N(0, 1); σ from `gaussianSigma`. */
export function dequantizeGaussian(pixels: ArrayLike<number>, sigma: number, rng: Rng): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < out.length; i++) out[i] = pixels[i] / 127.5 - 1 + sigma * rng.normal();
  return out;
}

/** x_int/127.5 − 1, no noise (the centre of the gaussian dequantization). */
export function toModelSpace(pixels: ArrayLike<number>): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < out.length; i++) out[i] = pixels[i] / 127.5 - 1;
  return out;
}

/** Model space back to uint8: round((x + 1)·127.5), clipped to [0, 255]; NaN maps to 0. */
export function toPixels(x: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < out.length; i++) {
    const v = Math.round((x[i] + 1) * 127.5);
    out[i] = v > 255 ? 255 : v > 0 ? v : 0;
  }
  return out;
}

/**
 * Model space → uint8 pixels, inverting a model's dequantization: floor((x + 1)·128)
 * for uniform noise, round((x + 1)·127.5) for gaussian; clipped to [0, 255], non-finite → 0.
 */
export function modelToPixels(x: ArrayLike<number>, dq: { kind: 'uniform' | 'gaussian' }): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = dq.kind === 'uniform' ? Math.floor((x[i] + 1) * 128) : Math.round((x[i] + 1) * 127.5);
    out[i] = Number.isFinite(v) ? Math.min(255, Math.max(0, v)) : 0;
  }
  return out;
}
