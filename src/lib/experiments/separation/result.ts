// What the separation experiment (suppl. Fig. 8) computes and returns: the interpolation, the
// noise levels, which modes a model has, and the result's shape. Shared by the run (worker or
// CLI), the figures and the reading.
import type { FarmerModel } from '../../farmer/model';
import type { Dims } from '../../farmer/config';
import type { PngImage } from '../../plots/pixels';

/** partial: only the last d_R channels of every token are noised; full: all d channels. */
export type Mode = 'partial' | 'full';

/** One point of a structure-vs-α curve, averaged over the samples. */
export interface CurvePoint {
  /** k: the latent Z^k after block k */
  depth: number;
  mode: Mode;
  alpha: number;
  /** mean SSIM against the clean image (luminance, Gaussian window), 1 = identical */
  ssim: number;
  ssimSd: number;
  /** mean correlation of Sobel edge maps (luminance) with the clean image's: shape */
  edge: number;
  edgeSd: number;
  /** RGB only: mean foreground/background colour error (RGB distance on [0, 1]); null for gray */
  colour: number | null;
  colourSd: number | null;
  /** images at this point with a non-finite decoded value (drawn black, scored as black pixels) */
  nonFinite: number;
}

/** Areas under the curves over α ∈ [0, 1] (trapezoids), per depth and mode. */
export interface CurveSummary {
  depth: number;
  mode: Mode;
  ssimArea: number;
  edgeArea: number;
  colourArea: number | null;
}

/**
 * The clean latents' values in the channels a mode noises, over the run's images: the noise ε
 * has mean 0 and sd 1, and a latent far from that scale decodes from values the AF never saw.
 */
export interface LatentScale {
  depth: number;
  mode: Mode;
  mean: number;
  sd: number;
}

export interface SeparationResult {
  formula: string;
  alphas: number[];
  depths: number[];
  modes: Mode[];
  /** why a mode is missing, or other caveats; empty when none */
  notes: string[];
  dims: Dims;
  height: number;
  width: number;
  channels: number;
  /** test-set index of each sample, or null for a supplied image */
  sources: (number | null)[];
  /** the shown sample, clean, uint8 [H, W, C] */
  clean: Uint8Array;
  /** the shown sample's reconstructions, uint8 [depth, mode, α, H, W, C] in the orders above */
  grid: Uint8Array;
  /** `clean` and `grid` tiled into one PNG (grid.ts gridLayout), encoded in the worker */
  gridImage: PngImage;
  curves: CurvePoint[];
  summary: CurveSummary[];
  /** max |x̂ − x| in model space at α = 0 over all depths, modes and samples */
  roundTripError: number;
  /** non-finite values in the decoded images (shown as black) */
  nonFinite: number;
  /** per depth and mode, in the orders above */
  latentScales: LatentScale[];
  /** of the run, on the backend it ran on */
  seconds: number;
}

/** Variance-preserving interpolation, shown on the page and in the JSON. */
export const FORMULA = 'z_α = √(1 − α²) · z + α · ε,  ε ~ N(0, I) (seeded)';

/** α_i = i/(levels − 1), i = 0 … levels − 1. */
export function alphaLevels(levels: number): number[] {
  return Array.from({ length: levels }, (_, i) => i / (levels - 1));
}

export function modesOf(model: FarmerModel): Mode[] {
  return model.config.prior.kind === 'farmer' ? ['partial', 'full'] : ['full'];
}
