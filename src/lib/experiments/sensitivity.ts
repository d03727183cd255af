// Experiment 3 of paper-notes.md: decoupled sampling (supplementary §7, Fig. 7, Table 5).
// Unguided samples over a grid of mixture temperature T and Gaussian scale s, each point scored
// with FID and IS through the dataset's feature network, results arriving cell by cell; beside
// it this model's Table 5: FID with and without resampling CFG at (T=1, s=1) and (T=1.3, s=0.9).
// The tensor work is in sensitivity-run.ts, imported by `run` only, so the page's main thread
// never loads TensorFlow.js for this module.
import type { FarmerModel } from '../farmer/model';
import { TABLE6_PRESET, type ResamplingParams } from '../farmer/guidance-preset';
import type { FeatureNet } from '../metrics/features';
import type { Experiment } from './types';
import {
  DECOUPLED_POINT, DEFAULT_POINT, findCell, formatList, parseList,
  type PointMetrics, type SensitivityResult, type Table5Entry,
} from './sensitivity-grid';
import { sensitivityFigures } from '../plots/sensitivity';

export * from './sensitivity-grid';

export type SensitivityParams = {
  /** mixture temperatures T, ascending, comma-separated; default "0.8,1,1.3,1.6" */
  T: string;
  /** Gaussian scales s (multiply σ), ascending, comma-separated; default "0.7,0.9,1" */
  s: string;
  /** samples per grid point, and test images (the first n) in the FID reference */
  n: number;
  /** seeds every point's sampling through pointSeed(seed, T, s) */
  seed: number;
  /** finite samples kept per point for the sample grid */
  keep: number;
  /** images per sampling call (part of the seed scheme); cancellation is checked between calls */
  batch: number;
  /** also run Table 5: FID with / without CFG at the default and the decoupled setting */
  table5: boolean;
};

export const DEFAULT_T = [0.8, 1, 1.3, 1.6];
export const DEFAULT_S = [0.7, 0.9, 1];
export const MAX_N = 10000;

/** Whether the model supports classifier-free guidance (a FARMER prior with class labels). */
export function cfgAvailable(model: FarmerModel): boolean {
  return model.config.num_classes > 0 && model.config.prior.kind === 'farmer';
}

/** Resampling CFG at Table 6's preset, with the row's (T, s) folded into the proposal (ours). */
export function cfgParams(T: number, s: number): ResamplingParams {
  return { ...TABLE6_PRESET, T_pi: TABLE6_PRESET.T_pi / T, T_sigma: TABLE6_PRESET.T_sigma * s };
}

/** The name a feature network goes by in metric labels: "<dataset>-cnn". */
export function featureNetName(net: FeatureNet): string {
  return `${String(net.card.dataset ?? 'unknown')}-cnn`;
}

function integer(raw: unknown, name: string, lo: number, hi: number): number {
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new Error(`invalid ${name}: ${JSON.stringify(raw)} is not an integer in [${lo}, ${hi}]`);
  return v;
}

function boolean(raw: unknown, name: string): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === '1' || raw === 1) return true;
  if (raw === 'false' || raw === '0' || raw === 0) return false;
  throw new Error(`invalid ${name}: ${JSON.stringify(raw)} is not true or false`);
}

/** Grid runs, extra unguided Table 5 runs (points not on the grid) and CFG runs of `p`. */
export function runPlan(p: SensitivityParams, model: FarmerModel): { grid: number; extraUnguided: number; guided: number } {
  const axes = { T: parseList(p.T, 'T'), s: parseList(p.s, 's') };
  const extra = p.table5 ? [DEFAULT_POINT, DECOUPLED_POINT].filter((q) => findCell(axes, q.T, q.s) < 0).length : 0;
  return { grid: axes.T.length * axes.s.length, extraUnguided: extra, guided: p.table5 && cfgAvailable(model) ? 2 : 0 };
}

export const experiment: Experiment<SensitivityParams, SensitivityResult> = {
  id: 'sensitivity',
  title: 'Decoupled sampling: mixture temperature T and Gaussian scale s',

  defaults(model) {
    const gaussian = model.config.prior.kind === 'gaussian';
    return { T: formatList(gaussian ? [1] : DEFAULT_T), s: formatList(DEFAULT_S), n: 100, seed: 0, keep: 16, batch: 50, table5: true };
  },

  parseParams(raw, model) {
    const d = experiment.defaults(model);
    const get = (k: keyof SensitivityParams) => (raw[k] === undefined || raw[k] === null ? d[k] : raw[k]);
    return {
      T: formatList(parseList(get('T'), 'T')),
      s: formatList(parseList(get('s'), 's')),
      n: integer(get('n'), 'n', 2, MAX_N),
      seed: integer(get('seed'), 'seed', 0, 2 ** 32 - 1),
      keep: integer(get('keep'), 'keep', 0, 64),
      batch: integer(get('batch'), 'batch', 1, 1024),
      table5: boolean(get('table5'), 'table5'),
    };
  },

  cost(p, model) {
    const plan = runPlan(p, model);
    const N = model.dims.tokens, nT = parseList(p.T, 'T').length, nS = parseList(p.s, 's').length;
    const units = (plan.grid + plan.extraUnguided + 2 * plan.guided) * p.n * N;
    const parts = [`${plan.grid} grid points (${nT} T × ${nS} s) × ${p.n} samples × ${N} tokens`];
    if (plan.extraUnguided) parts.push(`${plan.extraUnguided} more unguided run${plan.extraUnguided > 1 ? 's' : ''} for Table 5`);
    if (plan.guided) parts.push(`${plan.guided} CFG runs (each about twice a plain one)`);
    return { units, description: `${parts.join(' + ')}; features of ${p.n} test images and every sample` };
  },

  async run(model, inputs, p, ctx) {
    const { runSensitivity } = await import('./sensitivity-run');
    return runSensitivity(model, inputs, p, ctx);
  },

  toJSON(r, p) {
    const metrics = (m: PointMetrics) => ({ fid: m.fid, is: m.is, n: m.n, finite: m.finite, non_finite: m.nonFinite, seed: m.seed, seconds: m.seconds });
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
        rows: r.table5.rows.map((row) => ({ setting: row.setting, T: row.T, s: row.s, unguided: entry(row.unguided), guided: entry(row.guided) })),
      },
      notes: r.notes,
    };
  },

  figures(r, _p, doc) {
    return sensitivityFigures(r, doc);
  },
};
