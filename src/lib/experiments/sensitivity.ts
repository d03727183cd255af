// Experiment 3 of paper-notes.md: decoupled sampling (supplementary §7, Fig. 7, Table 5).
// Unguided samples over a grid of mixture temperature T and Gaussian scale s, each point scored
// with FID and IS through the dataset's feature network, results arriving cell by cell; beside
// it this model's Table 5: FID with and without resampling CFG at (T=1, s=1) and (T=1.3, s=0.9).
import type { FarmerModel } from '../farmer/model';
import { sample } from '../farmer/sampling';
import { TABLE6_PRESET, TABLE6_W, type ResamplingParams } from '../farmer/guidance';
import { nullLabels } from '../farmer/labels';
import { FEATURE_DIM } from '../metrics/classifier';
import { computeFeatures, type FeatureNet } from '../metrics/features';
import { featureStats, frechetDistance, type GaussianStats } from '../metrics/fid';
import { inceptionScore } from '../metrics/inception';
import { throwIfAborted, type Experiment, type ExperimentContext, type ExperimentInputs } from './types';
import { bytesToBase64 } from './pixels';
import { modelToPixels } from '../data/dequantize';
import {
  DECOUPLED_POINT, DEFAULT_POINT, applyPartial, batchSeed, findCell, formatList, parseList, pointSeed,
  type PointMetrics, type SensitivityCell, type SensitivityPartial, type SensitivityResult, type Table5, type Table5Entry,
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

interface RunSpec {
  T: number;
  s: number;
  cfg: ResamplingParams | null;
}

interface RunOutput extends PointMetrics {
  /** finite samples, uint8 [finite, H, W, C] */
  pixels: Uint8Array;
}

/** Draws n samples at one setting in batches, scores the finite ones. */
async function runPoint(
  model: FarmerModel, net: FeatureNet, real: GaussianStats, p: SensitivityParams, spec: RunSpec,
  onBatch: (count: number) => void, signal?: AbortSignal,
): Promise<RunOutput> {
  const t0 = performance.now();
  const C = model.config.num_classes, size = model.dims.pixels;
  const seed = pointSeed(p.seed, spec.T, spec.s, spec.cfg !== null);
  const kept = new Uint8Array(p.n * size);
  let finite = 0;
  for (let start = 0; start < p.n; start += p.batch) {
    throwIfAborted(signal);
    const count = Math.min(p.batch, p.n - start);
    const labels = C > 0 ? Int32Array.from({ length: count }, (_, i) => (start + i) % C) : nullLabels(count);
    const r = await sample(model, {
      n: count, seed: batchSeed(seed, start), labels, T: spec.T, s: spec.s,
      cfg: spec.cfg ? { method: 'resampling', w: TABLE6_W, params: spec.cfg } : undefined,
      signal,
    });
    const x = (await r.images.data()) as Float32Array;
    r.images.dispose();
    r.z.dispose();
    const px = modelToPixels(x, model.config.dequantization);
    r.finite.forEach((ok, i) => {
      if (ok) kept.set(px.subarray(i * size, (i + 1) * size), finite++ * size);
    });
    onBatch(count);
  }
  throwIfAborted(signal);
  const pixels = kept.slice(0, finite * size);
  let fid: number | null = null, is: number | null = null;
  if (finite >= 1) {
    const f = await computeFeatures(net, pixels, finite);
    if (finite >= 2) fid = frechetDistance(real, featureStats(f.features, finite, FEATURE_DIM, 'generated features'));
    const [head, classes] = Object.entries(net.classifier.spec.heads)[0];
    is = inceptionScore(f.probs[head], finite, classes).mean;
  }
  return { fid, is, n: p.n, finite, nonFinite: p.n - finite, seed, seconds: (performance.now() - t0) / 1000, pixels };
}

function metricsOf(o: PointMetrics): PointMetrics {
  return { fid: o.fid, is: o.is, n: o.n, finite: o.finite, nonFinite: o.nonFinite, seed: o.seed, seconds: o.seconds };
}

async function run(model: FarmerModel, inputs: ExperimentInputs, p: SensitivityParams, ctx: ExperimentContext = {}): Promise<SensitivityResult> {
  const { signal } = ctx;
  const { height, width, channels } = model.config.image;
  const net = inputs.featureNet;
  if (!net) throw new Error("the sensitivity experiment needs the dataset's feature network (FID and IS)");
  const spec = net.classifier.spec, test = inputs.testSet;
  if (spec.height !== height || spec.width !== width || spec.channels !== channels)
    throw new Error(`the feature network takes ${spec.height}×${spec.width}×${spec.channels} images; the model makes ${height}×${width}×${channels}`);
  if (test.height !== height || test.width !== width || test.channels !== channels)
    throw new Error(`test images are ${test.height}×${test.width}×${test.channels}; the model makes ${height}×${width}×${channels}`);
  if (p.n > test.n) throw new Error(`invalid n: ${p.n} is more than the ${test.n} test images`);
  const T = parseList(p.T, 'T'), s = parseList(p.s, 's');
  const plan = runPlan(p, model);
  const C = model.config.num_classes, size = model.dims.pixels;
  const name = featureNetName(net);

  const notes: string[] = [];
  if (model.config.prior.kind === 'gaussian') notes.push('Gaussian prior: the mixture temperature T has no effect, only s (the latent standard deviation).');
  const cfgOk = cfgAvailable(model);
  const table5: Table5 | null = p.table5
    ? {
        rows: [
          { setting: 'default', ...DEFAULT_POINT, unguided: null, guided: null },
          { setting: 'decoupled', ...DECOUPLED_POINT, unguided: null, guided: null },
        ],
        cfgAvailable: cfgOk,
        note: cfgOk
          ? `resampling CFG, w = ${TABLE6_W}, Table 6 preset with the row's T and s folded into the proposal (T_π = 1/T, T_σ = 0.9·s; ours), labels cycling 0..${C - 1}`
          : model.config.num_classes === 0
            ? 'unconditional model: classifier-free guidance needs class labels, so only the unguided column is shown'
            : 'Gaussian prior: classifier-free guidance needs the GMM prior, so only the unguided column is shown',
      }
    : null;
  let result: SensitivityResult = {
    T, s, n: p.n, seed: p.seed, featureNet: name,
    fidLabel: `FID (${name} features, not Inception)`,
    isLabel: `IS (${name} class probabilities, not Inception)`,
    image: { height, width, channels },
    labels: C > 0 ? `cycling 0..${C - 1}` : 'null',
    cells: T.flatMap(() => s.map(() => null)),
    table5, notes,
  };
  // The page draws each partial result as it is: send the whole result so far every time.
  const emit = (partial: SensitivityPartial) => {
    result = applyPartial(result, partial);
    ctx.onPartial?.(result);
  };
  emit({ kind: 'start', result });

  const total = (plan.grid + plan.extraUnguided + 2 * plan.guided) * p.n;
  let done = 0;
  const progress = (label: string, weight = 1) => (count: number) => {
    done += weight * count;
    ctx.onProgress?.(done, total, label);
  };
  ctx.onProgress?.(0, total, 'test-image features');
  const realF = await computeFeatures(net, test.images.subarray(0, p.n * size), p.n);
  const real = featureStats(realF.features, p.n, FEATURE_DIM, 'test-image features');

  for (let iT = 0; iT < T.length; iT++)
    for (let iS = 0; iS < s.length; iS++) {
      const out = await runPoint(model, net, real, p, { T: T[iT], s: s[iS], cfg: null }, progress(`T = ${T[iT]}, s = ${s[iS]}`), signal);
      const keep = Math.min(p.keep, out.finite);
      const cell: SensitivityCell = { T: T[iT], s: s[iS], ...metricsOf(out), kept: keep, samples: bytesToBase64(out.pixels.subarray(0, keep * size)) };
      emit({ kind: 'cell', index: iT * s.length + iS, cell });
    }

  if (table5)
    for (let row = 0; row < table5.rows.length; row++) {
      const { T: rT, s: rS, setting } = table5.rows[row];
      const at = findCell(result, rT, rS);
      let unguided: Table5Entry;
      if (at >= 0) unguided = { ...metricsOf(result.cells[at]!), cfg: null, fromGrid: true };
      else {
        const out = await runPoint(model, net, real, p, { T: rT, s: rS, cfg: null }, progress(`Table 5, ${setting}, unguided`), signal);
        unguided = { ...metricsOf(out), cfg: null, fromGrid: false };
      }
      emit({ kind: 'table5', row, column: 'unguided', entry: unguided });
      if (!cfgOk) continue;
      const params = cfgParams(rT, rS);
      const out = await runPoint(model, net, real, p, { T: rT, s: rS, cfg: params }, progress(`Table 5, ${setting}, CFG`, 2), signal);
      emit({ kind: 'table5', row, column: 'guided', entry: { ...metricsOf(out), cfg: { method: 'resampling', w: TABLE6_W, params }, fromGrid: false } });
    }
  const bad = result.cells.reduce((a, c) => a + (c?.nonFinite ?? 0), 0);
  if (bad > 0) result = { ...result, notes: [...result.notes, `${bad} of ${plan.grid * p.n} grid samples held NaN or Inf and were left out of FID and IS (counted per cell).`] };
  return result;
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

  run,

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
