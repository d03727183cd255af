// Likelihood in bits per dimension (suppl. Table 6): test BPD under uniform dequantization, split
// into where the bits come from — the AR prior's informative channels, its redundant channels, the
// flow's log-determinant — per image, per class and per patch, against independent-pixel
// histogram baselines that know nothing of shape. The tensor work lives in run.ts, imported by
// `run` only.
import type { Experiment } from '../types';
import { likelihoodFigures } from './figures';
import { likelihoodParams, type LikelihoodParams } from './params';
import { describeAgainstBaseline } from './reading';
import { SCALE_BITS, type LikelihoodResult } from './result';

export type { LikelihoodParams, LikelihoodResult };

function toJSON(r: LikelihoodResult, p: LikelihoodParams): unknown {
  const s = r.summary;
  return {
    experiment: 'likelihood',
    params: p,
    dequantization: 'uniform (BPD = (L + ln 128)/ln 2; docs/model.md, "Likelihood and loss")',
    labels: p.conditional ? 'test labels: log p(x | y)' : 'null label: log p(x)',
    summary: {
      n: s.n,
      bpd: s.bpd,
      ci95: s.ci95,
      terms_bits_per_dim: {
        scale_log2_128: SCALE_BITS,
        prior_informative: s.priorInformative,
        prior_redundant: s.priorRedundant,
        flow_minus_logdet: s.flow,
      },
    },
    non_finite: r.nonFinite,
    baseline: r.baseline && {
      per_position: r.baseline.perPosition,
      shared: r.baseline.shared,
      fitted_on: `test images ${r.requested}–${r.requested + r.baseline.fitted - 1}`,
      evaluated: r.baseline.evaluated,
    },
    reading: describeAgainstBaseline(r),
    by_class: r.byClass.map((c) => ({ label: c.label, n: c.n, bpd: c.mean, ci95: c.ci95 })),
    per_token: {
      order: `raster over the ${r.grid.rows}×${r.grid.cols} patch grid; bits per dimension`,
      total: Array.from(r.perToken.total),
      prior: Array.from(r.perToken.prior),
      flow: Array.from(r.perToken.flow),
    },
    images: r.images.map((b) => ({
      index: b.index,
      label: b.label,
      bpd: b.bpd,
      prior_informative: b.priorInformative,
      prior_redundant: b.priorRedundant,
      flow: b.flow,
    })),
  };
}

export const experiment: Experiment<LikelihoodParams, LikelihoodResult> = {
  id: 'likelihood',
  title: 'Likelihood in bits per dimension',
  params: likelihoodParams,
  needs: { featureNet: false, teacher: false },
  cost: (p) => ({
    units: p.n,
    description: `${p.n} test images through the forward pass (AF and AR prior in parallel, no sampling)`,
  }),

  async run(model, inputs, p, ctx) {
    const { runLikelihood } = await import('./run');
    return runLikelihood(model, inputs, p, ctx);
  },

  toJSON,
  figures: (r, _p, doc) => likelihoodFigures(r, doc),

  thumbnail: {
    figure: 'bits-map',
    params: { n: '128' },
    seed: 0,
    alt: 'Maps of bits per dimension on the patch grid: the total, its prior part and its flow part.',
  },
};
