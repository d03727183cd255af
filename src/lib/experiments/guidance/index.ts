// Guidance (Algorithm 1, ablation Table 2): classifier-free guidance of the GMM tokens at several
// weights w, JetFormer's naive rejection CFG against FARMER's resampling CFG, each setting scored
// with FID and IS through the dataset's feature network and with how often that network reads
// the asked class. The paper's ablation (1.1B, ImageNet): naive 8.66 FID, resampling 5.67.
// Tensor work in run.ts, imported by `run` only.
import type { Experiment } from '../types';
import { guidanceFigures } from './figures';
import { guidanceParams, type GuidanceParams } from './params';
import { describeRows } from './reading';
import { planRows, type GuidanceResult } from './result';

export type { GuidanceParams, GuidanceResult };

function toJSON(r: GuidanceResult, p: GuidanceParams): unknown {
  return {
    experiment: 'guidance',
    params: p,
    feature_network: r.featureNet,
    fid_label: r.fidLabel,
    is_label: r.isLabel,
    rows: r.rows.flatMap((q) =>
      q
        ? [
            {
              method: q.method,
              w: q.w,
              n: q.n,
              finite: q.finite,
              fid: q.fid,
              is: q.is,
              class_agreement: q.accuracy,
              naive_fallbacks: q.fallbacks,
              guided_dims: q.guidedDims,
              seconds: q.seconds,
            },
          ]
        : [],
    ),
    reading: describeRows(r),
  };
}

export const experiment: Experiment<GuidanceParams, GuidanceResult> = {
  id: 'guidance',
  title: 'Guidance: naive and resampling CFG',
  params: guidanceParams,
  needs: { featureNet: true, teacher: false },

  cost(p, model) {
    const rows = planRows(p);
    const { tokens: N } = model.dims;
    const guided = rows.filter((q) => q.method !== 'none').length;
    const inverse = model.config.student
      ? 'one student pass'
      : `${model.config.af.blocks} sequential AF inverse blocks`;
    return {
      // a guided sample runs the AR on two rows (conditional and unconditional)
      units: p.n * N * (rows.length + guided) + p.n * rows.length * (model.config.student ? 1 : N),
      description: `${rows.length} settings × ${p.n} samples, each ${N} sequential AR steps (twice as many rows when guided) and ${inverse}, then FID and IS of each setting`,
    };
  },

  async run(model, inputs, p, ctx) {
    const { runGuidance } = await import('./run');
    return runGuidance(model, inputs, p, ctx);
  },

  toJSON,
  figures: (r, _p, doc) => guidanceFigures(r, doc),

  thumbnail: {
    figure: 'samples',
    params: { n: '20', keep: '10', weights: '0,2.5', batch: '20' },
    seed: 0,
    alt: 'Rows of samples, one per guidance setting (unguided, naive CFG, resampling CFG), each column asking for one digit.',
  },
};
