// Redundant variance (paper v2 Fig. 7): the same samples drawn with the redundant GMM's standard
// deviations scaled by s_R, everything else fixed. With one seed the informative tokens and every
// redundant draw (component k and ε) are the same at every s_R, so z_R = μ_k + s_R·σ_k·ε moves
// along one line and a row of the grid differs from another only by that scale. The paper's
// reading: small s_R keeps structure and smooths colour, large s_R adds diversity, then off-
// distribution colours, then incoherent images. Tensor work in run.ts.
import type { Experiment } from '../types';
import { redundantFigures } from './figures';
import { redundantParams, type RedundantParams } from './params';
import { describeRows } from './reading';
import { rowScales, type RedundantResult } from './result';

export type { RedundantParams, RedundantResult };

function toJSON(r: RedundantResult, p: RedundantParams): unknown {
  return {
    experiment: 'redundant',
    params: p,
    reference_scale: r.reference,
    labels: r.labels,
    dims: r.dims,
    rows: r.rows.map((q) => ({
      scale: q.scale,
      ssim_vs_reference: q.ssim,
      edge_vs_reference: q.edge,
      colour_error_vs_reference: q.colour,
      non_finite: q.finite.flatMap((f, i) => (f ? [] : [i])),
    })),
    reading: describeRows(r),
  };
}

export const experiment: Experiment<RedundantParams, RedundantResult> = {
  id: 'redundant',
  title: 'Redundant variance',
  params: redundantParams,
  needs: { featureNet: false, teacher: false },

  cost(p, model) {
    const { tokens: N } = model.dims;
    const rows = rowScales(p.scales).length;
    const inverse = model.config.student
      ? 'one student pass'
      : `${model.config.af.blocks} AF inverse blocks of ${N} sequential token steps`;
    return {
      units: p.n * N * 2 + p.n * rows * (model.config.student ? 1 : N),
      description: `${p.n} samples drawn twice through ${N} sequential AR steps (s_R = 0 and 1; every other s_R lies on that line), then ${rows} rows of ${p.n} images, each ${inverse}`,
    };
  },

  async run(model, inputs, p, ctx) {
    const { runRedundant } = await import('./run');
    return runRedundant(model, inputs, p, ctx);
  },

  toJSON,
  figures: (r, _p, doc) => redundantFigures(r, doc),

  thumbnail: {
    figure: 'grid',
    params: { n: '6', scales: '0,0.4,1,2,4' },
    seed: 0,
    alt: "A grid of samples: each row the same samples with the redundant channels' spread scaled by s_R from 0 to 4.",
  },
};
