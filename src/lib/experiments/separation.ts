// Supplementary Fig. 8, "Visualizing the separation process of information in AF": take the
// latent after block k, interpolate it with Gaussian noise (only the redundant channels, or all
// of them), invert blocks k−1 … 0 back to pixels, and measure how much structure survives.
// The tensor work is in separation-run.ts, imported by `run` only, so the page's main thread
// never loads TensorFlow.js for this module.
import type { Experiment } from './types';
import type { PngImage } from './pixels';
import type { FarmerModel } from '../farmer/model';
import type { Dims } from '../farmer/config';
import { Rng } from '../util/random';
import { separationFigures } from '../plots/separation';

export type SeparationParams = {
  /** index of the shown test image (the first sample) */
  image: number;
  /** samples averaged in the curves: test images image, image+1, … (each with its own noise) */
  images: number;
  /** number of noise levels α, evenly spaced over [0, 1] */
  levels: number;
  /** depths k to perturb: "all" or a comma list such as "1,2,4" (1 … n) */
  depths: string;
  /** seed of the interpolation noise ε */
  seed: number;
};

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
}

/** Areas under the curves over α ∈ [0, 1] (trapezoids), per depth and mode. */
export interface CurveSummary {
  depth: number;
  mode: Mode;
  ssimArea: number;
  edgeArea: number;
  colourArea: number | null;
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
  /** `clean` and `grid` tiled into one PNG (plots/separation gridLayout), encoded in the worker */
  gridImage: PngImage;
  curves: CurvePoint[];
  summary: CurveSummary[];
  /** max |x̂ − x| in model space at α = 0 over all depths, modes and samples */
  roundTripError: number;
  /** non-finite values in the decoded images (shown as black) */
  nonFinite: number;
  /** of the run, on the backend it ran on */
  seconds: number;
}

/** Variance-preserving interpolation, shown on the page and in the JSON. */
export const FORMULA = 'z_α = √(1 − α²) · z + α · ε,  ε ~ N(0, I) (seeded)';

/** α_i = i/(levels − 1), i = 0 … levels − 1. */
export function alphaLevels(levels: number): number[] {
  return Array.from({ length: levels }, (_, i) => i / (levels - 1));
}

/**
 * z_α over the channels [from, d) of every token, the rest copied. Variance preserving rather
 * than linear ((1−α)z + αε): the latents a flow is trained towards are roughly unit-variance, and
 * √(1−α²) keeps Var z_α = 1 at every α, so the interpolated latent stays on the shell where
 * latents live and α measures lost information only. Linear interpolation shrinks the variance
 * to 0.5 at α = ½, an atypically small latent that decodes to a smoothed image even without any
 * loss of information. Both agree at α = 0 (z) and α = 1 (ε).
 */
export function interpolateLatent(z: Float32Array, eps: Float32Array, alpha: number, d: number, from: number): Float32Array {
  const out = Float32Array.from(z);
  const keep = Math.sqrt(1 - alpha * alpha);
  for (let t = 0; t < z.length; t += d) for (let j = from; j < d; j++) out[t + j] = keep * z[t + j] + alpha * eps[t + j];
  return out;
}

/** Noise ε [N·d] of sample s: stream s of `new Rng(seed)` forked in sample order. */
export function sampleNoise(seed: number, samples: number, size: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: samples }, () => rng.fork().normals(size));
}

/** "all" | "1,3" → sorted distinct depths in 1 … n. */
export function parseDepths(raw: string, n: number): number[] {
  const s = raw.trim().toLowerCase();
  if (s === 'all' || s === '') return Array.from({ length: n }, (_, i) => i + 1);
  const ks = s.split(',').map((t) => Number(t.trim()));
  for (const k of ks) if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`invalid depths: "${raw}" (integers in 1…${n}, or "all")`);
  return [...new Set(ks)].sort((a, b) => a - b);
}

function intParam(raw: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const v = raw[name] ?? fallback;
  const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw new Error(`invalid ${name}: ${JSON.stringify(v)} (an integer in ${min}…${max})`);
  return x;
}

export function modesOf(model: FarmerModel): Mode[] {
  return model.config.prior.kind === 'farmer' ? ['partial', 'full'] : ['full'];
}

const defaults = (): SeparationParams => ({ image: 0, images: 2, levels: 5, depths: 'all', seed: 0 });

export const experiment: Experiment<SeparationParams, SeparationResult> = {
  id: 'separation',
  title: 'Information separation in the AF',
  defaults,

  parseParams(raw, model) {
    const d = defaults();
    const depths = raw.depths ?? d.depths;
    if (typeof depths !== 'string') throw new Error(`invalid depths: ${JSON.stringify(depths)} ("all" or a comma list such as "1,3")`);
    const parsed = parseDepths(depths, model.config.af.blocks);
    const all = parsed.length === model.config.af.blocks;
    return {
      image: intParam(raw, 'image', d.image, 0, 1_000_000),
      images: intParam(raw, 'images', d.images, 1, 16),
      levels: intParam(raw, 'levels', d.levels, 2, 11),
      depths: all ? 'all' : parsed.join(','),
      seed: intParam(raw, 'seed', d.seed, 0, 2 ** 32 - 1),
    };
  },

  cost(p, model) {
    const depths = parseDepths(p.depths, model.config.af.blocks);
    const rows = p.images * modesOf(model).length * p.levels;
    const blockPasses = depths.reduce((a, k) => a + k, 0);
    const N = model.dims.tokens;
    return {
      units: rows * depths.length * N, // AF inversions × tokens
      description:
        `${rows * depths.length} AF inversions (${depths.length} depths × ${p.levels} levels × ${modesOf(model).length} modes × ${p.images} images), ` +
        `batched ${rows} per depth: ${blockPasses} block inverses of ${N - 1} sequential token steps`,
    };
  },

  async run(model, inputs, p, ctx) {
    const { runSeparation } = await import('./separation-run');
    return runSeparation(model, inputs, p, ctx);
  },

  toJSON(r, p) {
    return {
      experiment: 'separation',
      params: p,
      formula: r.formula,
      partial: 'only the redundant channels z[:, d_I:] of every token are interpolated',
      full: 'all channels are interpolated',
      alphas: r.alphas,
      depths: r.depths,
      modes: r.modes,
      notes: r.notes,
      dims: r.dims,
      image: { height: r.height, width: r.width, channels: r.channels, sources: r.sources },
      metrics: {
        ssim: 'mean SSIM vs the clean image, Gaussian window σ = 1.5 (11×11), on luminance (BT.601), [0, 255]',
        edge: 'Pearson correlation of Sobel magnitude maps of luminance vs the clean image',
        colour: 'RGB only: mean of foreground and background colour errors (Euclidean, RGB on [0, 1]); mask = clean luminance above its Otsu threshold',
      },
      curves: r.curves,
      summary: r.summary,
      roundTripError: r.roundTripError,
      nonFinite: r.nonFinite,
      clean: Array.from(r.clean),
      grid: { shape: [r.depths.length, r.modes.length, r.alphas.length, r.height, r.width, r.channels], order: 'depth, mode, alpha, y, x, channel', data: Array.from(r.grid) },
    };
  },

  figures: (r, p, doc) => separationFigures(r, doc),
};
