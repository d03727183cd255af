// Decoupled sampling (suppl. §7, Fig. 7, Table 5): unguided samples over a grid of mixture
// temperature T and Gaussian scale s, each point scored with FID and IS through the dataset's
// feature network, results arriving cell by cell; beside it this model's Table 5: FID with and
// without resampling CFG at (T=1, s=1) and (T=1.3, s=0.9). The tensor work is in run.ts,
// imported by `run` only, so the page's main thread never loads TensorFlow.js for this module.
import type { Experiment } from '../types';
import { sensitivityFigures } from './figures';
import { sensitivityParams, type SensitivityParams } from './params';
import { runPlan, type PointMetrics, type SensitivityResult, type Table5Entry } from './result';

export type { SensitivityParams, SensitivityResult };

export const experiment: Experiment<SensitivityParams, SensitivityResult> = {
  id: 'sensitivity',
  title: 'Decoupled sampling: mixture temperature T and Gaussian scale s',
  params: sensitivityParams,
  needs: { featureNet: true, teacher: false },

  cost(p, model) {
    const plan = runPlan(p, model);
    const N = model.dims.tokens;
    const units = (plan.grid + plan.extraUnguided + 2 * plan.guided) * p.n * N;
    const parts = [`${plan.grid} grid points (${p.T.length} T × ${p.s.length} s) × ${p.n} samples × ${N} tokens`];
    if (plan.extraUnguided)
      parts.push(`${plan.extraUnguided} more unguided run${plan.extraUnguided > 1 ? 's' : ''} for Table 5`);
    if (plan.guided) parts.push(`${plan.guided} CFG runs (each about twice a plain one)`);
    return { units, description: `${parts.join(' + ')}; features of ${p.n} test images and every sample` };
  },

  async run(model, inputs, p, ctx) {
    const { runSensitivity } = await import('./run');
    return runSensitivity(model, inputs, p, ctx);
  },

  toJSON(r, p) {
    const metrics = (m: PointMetrics) => ({
      fid: m.fid,
      is: m.is,
      n: m.n,
      finite: m.finite,
      non_finite: m.nonFinite,
      seed: m.seed,
      seconds: m.seconds,
    });
    const entry = (e: Table5Entry | null) => e && { ...metrics(e), cfg: e.cfg, from_grid: e.fromGrid };
    return {
      experiment: 'sensitivity',
      params: p,
      fid_label: r.fidLabel,
      is_label: r.isLabel,
      labels: r.labels,
      T: r.T,
      s: r.s,
      n: r.n,
      seed: r.seed,
      /** index iT·s.length + iS; the kept samples are in the "samples" figure, not here */
      cells: r.cells.map((c) => c && { T: c.T, s: c.s, ...metrics(c) }),
      table5: r.table5 && {
        cfg_available: r.table5.cfgAvailable,
        note: r.table5.note,
        rows: r.table5.rows.map((row) => ({
          setting: row.setting,
          T: row.T,
          s: row.s,
          unguided: entry(row.unguided),
          guided: entry(row.guided),
        })),
      },
      notes: r.notes,
    };
  },

  figures: (r, _p, doc) => sensitivityFigures(r, doc),

  thumbnail: {
    figure: 'fid-heatmap',
    params: { n: '16', keep: '0', table5: 'false' },
    seed: 0,
    alt: "Heatmap of FID over mixture temperature T and Gaussian scale s, the paper's point outlined.",
  },
};
