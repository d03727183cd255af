// Guidance (Algorithm 1, paper-notes.md experiment 6): classifier-free guidance of the GMM tokens
// at several weights w, JetFormer's naive rejection CFG against FARMER's resampling CFG, each
// setting scored with FID and IS through the dataset's feature network and with how often that
// network reads the asked class. The paper's ablation (1.1B, ImageNet): naive 8.66 FID, resampling
// 5.67. Tensor work in guidance-run.ts, imported by `run` only.
import type { FarmerModel } from '../farmer/model';
import type { CfgMethod } from '../farmer/sampling';
import { TABLE6_W } from '../farmer/guidance-preset';
import type { Experiment, Figure } from './types';
import type { PngImage } from './pixels';
import { intParam, seedParam } from './params';
import { guidanceCurve, guidanceGrid } from '../plots/guidance';

export type MethodChoice = 'both' | CfgMethod;

export type GuidanceParams = {
  /** guidance weights w ≥ 0, comma-separated; w = 0 is unguided sampling, shared by both methods */
  weights: string;
  methods: MethodChoice;
  /** samples per setting, labels cycling through the classes; also the test images in the FID reference */
  n: number;
  /** finite samples kept per setting for the grid */
  keep: number;
  /** images per sampling call; every setting uses the same seed per batch */
  batch: number;
  seed: number;
};

export type RowMethod = 'none' | CfgMethod;

export interface GuidanceRow {
  method: RowMethod;
  w: number;
  n: number;
  finite: number;
  nonFinite: number;
  /** over the finite samples; null with too few */
  fid: number | null;
  is: number | null;
  /** fraction of finite samples the feature network assigns to the asked class */
  accuracy: number | null;
  /** naive CFG: dimensions that fell back to the conditional draw, of `guidedDims` */
  fallbacks: number;
  guidedDims: number;
  seconds: number;
  /** finite samples kept, in label order, as one strip */
  kept: number;
  picture: PngImage | null;
}

export interface GuidanceResult {
  featureNet: string;
  fidLabel: string;
  isLabel: string;
  n: number;
  seed: number;
  classes: number;
  image: { height: number; width: number; channels: number };
  /** the planned settings in order; `rows[i]` is null until computed */
  plan: { method: RowMethod; w: number }[];
  rows: (GuidanceRow | null)[];
}

export const DEFAULT_WEIGHTS = `0,1,${TABLE6_W},4`;
export const MAX_WEIGHTS = 8;
export const MAX_N = 2000;

export function parseWeights(text: string): number[] {
  const parts = String(text).split(',').map((t) => t.trim()).filter(Boolean);
  const values = parts.map(Number);
  if (parts.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0 || v > 50))
    throw new Error(`invalid weights: ${JSON.stringify(text)} (comma-separated numbers in [0, 50])`);
  const unique = [...new Set(values)].sort((a, b) => a - b);
  if (unique.length > MAX_WEIGHTS) throw new Error(`invalid weights: ${unique.length} values (at most ${MAX_WEIGHTS})`);
  return unique;
}

function parseMethods(raw: unknown): MethodChoice {
  const v = raw === undefined ? 'both' : String(raw);
  if (v !== 'both' && v !== 'naive' && v !== 'resampling') throw new Error(`invalid methods: ${JSON.stringify(raw)} (both, naive or resampling)`);
  return v;
}

export function checkModel(model: FarmerModel): void {
  if (model.config.prior.kind !== 'farmer') throw new Error('the guidance notebook needs a FARMER prior: classifier-free guidance acts on its GMM heads, and a Gaussian prior (TARFlow) has none');
  if (model.config.num_classes === 0) throw new Error('the guidance notebook needs a class-conditional model: this one has no class labels to guide towards');
}

/** The settings a run samples: unguided once (when w = 0 is asked), then each method at each w > 0. */
export function planRows(p: GuidanceParams): { method: RowMethod; w: number }[] {
  const ws = parseWeights(p.weights);
  const methods: CfgMethod[] = p.methods === 'both' ? ['naive', 'resampling'] : [p.methods];
  return [...(ws.includes(0) ? [{ method: 'none' as const, w: 0 }] : []), ...methods.flatMap((method) => ws.filter((w) => w > 0).map((w) => ({ method, w })))];
}

function defaults(model: FarmerModel): GuidanceParams {
  void model;
  return { weights: DEFAULT_WEIGHTS, methods: 'both', n: 100, keep: 10, batch: 50, seed: 0 };
}

function parseParams(raw: Record<string, unknown>, model: FarmerModel): GuidanceParams {
  checkModel(model);
  const d = defaults(model);
  return {
    weights: parseWeights(String(raw.weights ?? d.weights)).join(','),
    methods: parseMethods(raw.methods),
    n: intParam(raw, 'n', d.n, 2, MAX_N),
    keep: intParam(raw, 'keep', d.keep, 0, 40),
    batch: intParam(raw, 'batch', d.batch, 1, 256),
    seed: seedParam(raw, d.seed),
  };
}

function cost(p: GuidanceParams, model: FarmerModel): { units: number; description: string } {
  const rows = planRows(p);
  const { tokens: N } = model.dims;
  const guided = rows.filter((q) => q.method !== 'none').length;
  const inverse = model.config.student ? 'one student pass' : `${model.config.af.blocks} sequential AF inverse blocks`;
  return {
    // a guided sample runs the AR on two rows (conditional and unconditional)
    units: p.n * N * (rows.length + guided) + p.n * rows.length * (model.config.student ? 1 : N),
    description: `${rows.length} settings × ${p.n} samples, each ${N} sequential AR steps (twice as many rows when guided) and ${inverse}, then FID and IS of each setting`,
  };
}

async function run(...args: Parameters<Experiment<GuidanceParams, GuidanceResult>['run']>): Promise<GuidanceResult> {
  const { runGuidance } = await import('./guidance-run');
  return runGuidance(...args);
}

const f = (v: number | null, digits = 2) => (v === null ? '–' : v.toFixed(digits));
const pct = (v: number | null) => (v === null ? '–' : `${(100 * v).toFixed(0)}%`);

export function rowName(q: { method: RowMethod; w: number }): string {
  return q.method === 'none' ? 'unguided' : `${q.method} w = ${q.w}`;
}

/** What the finished rows say, in words. */
export function describeRows(r: GuidanceResult): string[] {
  const rows = r.rows.filter((q): q is GuidanceRow => q !== null);
  if (rows.length === 0) return ['No setting has been computed yet.'];
  const out: string[] = [];
  const base = rows.find((q) => q.method === 'none');
  if (base) out.push(`Unguided: FID ${f(base.fid, 1)}, IS ${f(base.is)}, ${pct(base.accuracy)} of samples read as the asked class.`);
  for (const method of ['naive', 'resampling'] as const) {
    const mine = rows.filter((q) => q.method === method && q.fid !== null);
    if (mine.length === 0) continue;
    const best = mine.reduce((a, b) => (b.fid! < a.fid! ? b : a));
    const top = mine.reduce((a, b) => ((b.accuracy ?? -1) > (a.accuracy ?? -1) ? b : a));
    out.push(`${method === 'naive' ? 'Naive' : 'Resampling'} CFG: lowest FID ${f(best.fid, 1)} at w = ${best.w}; class agreement up to ${pct(top.accuracy)} (w = ${top.w}).`);
  }
  const naive = rows.filter((q) => q.method === 'naive');
  const fallbacks = naive.reduce((a, q) => a + q.fallbacks, 0), dims = naive.reduce((a, q) => a + q.guidedDims, 0);
  if (dims > 0) out.push(`Naive CFG fell back to the conditional draw in ${fallbacks} of ${dims} dimensions (${((100 * fallbacks) / dims).toFixed(2)}%).`);
  const bad = rows.reduce((a, q) => a + q.nonFinite, 0);
  if (bad > 0) out.push(`${bad} sample(s) held NaN or Inf and are left out of every score.`);
  return out;
}

function toJSON(r: GuidanceResult, p: GuidanceParams): unknown {
  return {
    experiment: 'guidance',
    params: p,
    feature_network: r.featureNet,
    fid_label: r.fidLabel,
    is_label: r.isLabel,
    rows: r.rows.flatMap((q) => (q ? [{ method: q.method, w: q.w, n: q.n, finite: q.finite, fid: q.fid, is: q.is, class_agreement: q.accuracy, naive_fallbacks: q.fallbacks, guided_dims: q.guidedDims, seconds: q.seconds }] : [])),
    reading: describeRows(r),
  };
}

function* figures(r: GuidanceResult, p: GuidanceParams, doc: Document): Generator<Figure> {
  void p;
  yield { name: 'samples', node: guidanceGrid(r, doc) };
  if (r.rows.some((q) => q !== null)) for (const metric of ['fid', 'is', 'accuracy'] as const) yield { name: metric, node: guidanceCurve(r, metric, doc) };
}

export const experiment: Experiment<GuidanceParams, GuidanceResult> = {
  id: 'guidance',
  title: 'Guidance: naive and resampling CFG',
  defaults,
  parseParams,
  cost,
  run,
  toJSON,
  figures,
};
