// Supplementary Fig. 8, "Visualizing the separation process of information in AF": take the
// latent after block k, interpolate it with Gaussian noise (only the redundant channels, or all
// of them), invert blocks k−1 … 0 back to pixels, and measure how much structure survives.
// The tensor work is in run.ts, imported by `run` only, so the page's main thread never loads
// TensorFlow.js for this module.
import type { Experiment } from '../types';
import { separationFigures } from './figures';
import { separationParams, type SeparationParams } from './params';
import { modesOf, type SeparationResult } from './result';

export type { SeparationParams, SeparationResult };

export const experiment: Experiment<SeparationParams, SeparationResult> = {
  id: 'separation',
  title: 'Information separation in the AF',
  params: separationParams,
  needs: { featureNet: false, teacher: false },

  cost(p, model) {
    const rows = p.images * modesOf(model).length * p.levels;
    const blockPasses = p.depths.reduce((a, k) => a + k, 0);
    const N = model.dims.tokens;
    return {
      units: rows * p.depths.length * N, // AF inversions × tokens
      description:
        `${rows * p.depths.length} AF inversions (${p.depths.length} depths × ${p.levels} levels × ${modesOf(model).length} modes × ${p.images} images), ` +
        `batched ${rows} per depth: ${blockPasses} block inverses of ${N - 1} sequential token steps`,
    };
  },

  async run(model, inputs, p, ctx) {
    const { runSeparation } = await import('./run');
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
        colour:
          'RGB only: mean of foreground and background colour errors (Euclidean, RGB on [0, 1]); mask = clean luminance above its Otsu threshold',
      },
      curves: r.curves,
      summary: r.summary,
      roundTripError: r.roundTripError,
      nonFinite: r.nonFinite,
      latentScales: r.latentScales,
      clean: Array.from(r.clean),
      grid: {
        shape: [r.depths.length, r.modes.length, r.alphas.length, r.height, r.width, r.channels],
        order: 'depth, mode, alpha, y, x, channel',
        data: Array.from(r.grid),
      },
    };
  },

  figures: (r, _p, doc) => separationFigures(r, doc),

  thumbnail: {
    figure: 'grid',
    params: { images: '1', levels: '5' },
    seed: 0,
    alt: 'The separation grid: one test digit decoded from the latent after each AF block with 0 to 100% noise, Partial (redundant channels only) beside Full (all channels).',
  },
};
