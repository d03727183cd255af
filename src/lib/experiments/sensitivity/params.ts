// The sensitivity experiment's parameters (suppl. Fig. 7, Table 5): the T and s axes become
// sorted number arrays here, once.
import { defineParams, denoise, flag, integer, numberList, seed, type ParamsOf } from '../params';

export const DEFAULT_T = [0.8, 1, 1.3, 1.6];
export const DEFAULT_S = [0.7, 0.9, 1];
export const MAX_N = 10000;

const axis = { above: 0, max: 10, maxLength: 12 };

export const sensitivityParams = defineParams({
  /** mixture temperatures T; a Gaussian prior has no mixture, so only T = 1 by default */
  T: numberList(axis, (m) => (m.config.prior.kind === 'gaussian' ? [1] : DEFAULT_T)),
  /** Gaussian scales s (multiply σ) */
  s: numberList(axis, DEFAULT_S),
  /** samples per grid point, and test images (the first n) in the FID reference */
  n: integer(2, MAX_N, 100),
  /** seeds every point's sampling through pointSeed(seed, T, s) */
  seed: seed(),
  /** finite samples kept per point for the sample grid */
  keep: integer(0, 64, 16),
  /** images per sampling call on wasm/cpu (webgpu batches wider; the samples do not change); cancellation is checked between calls */
  batch: integer(1, 1024, 50),
  /** also run Table 5: FID with / without CFG at the default and the decoupled setting */
  table5: flag(true),
  /** Tweedie denoising of the samples (gaussian-dequantized models) */
  denoise: denoise(),
});

export type SensitivityParams = ParamsOf<typeof sensitivityParams.specs>;
