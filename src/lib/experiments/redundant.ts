// Redundant variance (paper v2 Fig. 7): the same samples drawn with the redundant GMM's standard
// deviations scaled by s_R, everything else fixed. With one seed the informative tokens and every
// redundant draw (component k and ε) are the same at every s_R, so z_R = μ_k + s_R·σ_k·ε moves
// along one line and a row of the grid differs from another only by that scale. The paper's
// reading: small s_R keeps structure and smooths colour, large s_R adds diversity, then off-
// distribution colours, then incoherent images. Tensor work in redundant-run.ts.
import type { Experiment, ExperimentContext, ExperimentInputs, Figure } from './types';
import type { FarmerModel } from '../farmer/model';
import type { PngImage } from './pixels';
import { intParam, numParam, seedParam } from './params';
import { redundantGrid, structureCurves } from '../plots/redundant';

export type RedundantParams = {
  /** s_R values, comma-separated; default the paper's 0, 0.2, 0.4, 0.8, 1, 1.2, 1.5, 2, 4 */
  scales: string;
  /** samples per row (labels cycle through the classes) */
  n: number;
  /** mixture temperature T of both groups */
  T: number;
  /** Gaussian scale s of the informative group */
  s: number;
  seed: number;
};

export interface ScaleRow {
  scale: number;
  /** per column: false when the image holds NaN or Inf */
  finite: boolean[];
  /** mean over the columns finite in both rows, against the same column at s_R = 1; null without any */
  ssim: number | null;
  edge: number | null;
  /** RGB distance on the reference's foreground (colour models only) */
  colour: number | null;
}

export interface RedundantResult {
  image: { height: number; width: number; channels: number };
  dims: { informative: number; redundant: number; tokenDim: number };
  /** class label of each column; −1 for the null label */
  labels: number[];
  n: number;
  /** s_R = 1, drawn whether asked for or not: what every row is compared with */
  reference: number;
  rows: ScaleRow[];
  /** uint8 [rows, n, H, W, C]; NaN/Inf pixels drawn 0 */
  pixels: Uint8Array;
  /** rows × columns of images, 1 px apart, as one PNG (encoded in the worker) */
  grid: PngImage;
}

export const PAPER_SCALES = '0,0.2,0.4,0.8,1,1.2,1.5,2,4';
export const MAX_SCALES = 16;

export function parseScales(text: string): number[] {
  const parts = String(text).split(',').map((t) => t.trim()).filter(Boolean);
  const values = parts.map(Number);
  if (parts.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0 || v > 100))
    throw new Error(`invalid scales: ${JSON.stringify(text)} (comma-separated numbers in [0, 100])`);
  if (values.length > MAX_SCALES) throw new Error(`invalid scales: ${values.length} values (at most ${MAX_SCALES})`);
  return [...new Set(values)].sort((a, b) => a - b);
}

export function checkModel(model: FarmerModel): void {
  if (model.config.prior.kind !== 'farmer') throw new Error('the redundant-variance notebook needs a FARMER prior: a Gaussian prior (TARFlow) has no redundant group');
}

function defaults(model: FarmerModel): RedundantParams {
  void model;
  return { scales: PAPER_SCALES, n: 8, T: 1, s: 1, seed: 0 };
}

function parseParams(raw: Record<string, unknown>, model: FarmerModel): RedundantParams {
  checkModel(model);
  const d = defaults(model);
  const scales = parseScales(String(raw.scales ?? d.scales)).join(',');
  return {
    scales,
    n: intParam(raw, 'n', d.n, 1, 64),
    T: numParam(raw, 'T', d.T, 0, 100),
    s: numParam(raw, 's', d.s, 0, 100),
    seed: seedParam(raw, d.seed),
  };
}

/** The rows a run decodes: the asked scales plus the reference s_R = 1. */
export function rowScales(p: RedundantParams): number[] {
  return parseScales(`${p.scales},1`);
}

function cost(p: RedundantParams, model: FarmerModel): { units: number; description: string } {
  const { tokens: N } = model.dims;
  const rows = rowScales(p).length;
  const inverse = model.config.student ? 'one student pass' : `${model.config.af.blocks} AF inverse blocks of ${N} sequential token steps`;
  return {
    units: p.n * N * 2 + p.n * rows * (model.config.student ? 1 : N),
    description: `${p.n} samples drawn twice through ${N} sequential AR steps (s_R = 0 and 1; every other s_R lies on that line), then ${rows} rows of ${p.n} images, each ${inverse}`,
  };
}

async function run(model: FarmerModel, inputs: ExperimentInputs, p: RedundantParams, ctx: ExperimentContext = {}): Promise<RedundantResult> {
  const { runRedundant } = await import('./redundant-run');
  return runRedundant(model, inputs, p, ctx);
}

const f3 = (v: number | null) => (v === null ? '–' : v.toFixed(3));

/** How structure changes with s_R, in words, from the measured rows. */
export function describeRows(r: RedundantResult): string[] {
  const rows = r.rows.filter((q) => q.scale !== r.reference && q.ssim !== null);
  if (rows.length === 0) return ['No finite image pairs to compare with s_R = 1.'];
  const lo = rows[0], hi = rows[rows.length - 1];
  const out = [
    `Against s_R = 1, the lowest scale (${lo.scale}) keeps SSIM ${f3(lo.ssim)} and edge correlation ${f3(lo.edge)}; the highest (${hi.scale}) ${f3(hi.ssim)} and ${f3(hi.edge)}.`,
  ];
  const bad = r.rows.reduce((a, q) => a + q.finite.filter((f) => !f).length, 0);
  if (bad > 0) out.push(`${bad} image(s) hold NaN or Inf (drawn black) and are left out of the scores.`);
  return out;
}

function toJSON(r: RedundantResult, p: RedundantParams): unknown {
  return {
    experiment: 'redundant',
    params: p,
    reference_scale: r.reference,
    labels: r.labels,
    dims: r.dims,
    rows: r.rows.map((q) => ({ scale: q.scale, ssim_vs_reference: q.ssim, edge_vs_reference: q.edge, colour_error_vs_reference: q.colour, non_finite: q.finite.flatMap((f, i) => (f ? [] : [i])) })),
    reading: describeRows(r),
  };
}

function* figures(r: RedundantResult, p: RedundantParams, doc: Document): Generator<Figure> {
  void p;
  yield { name: 'grid', node: redundantGrid(r, doc) };
  if (r.rows.length > 1) yield { name: 'structure', node: structureCurves(r, doc) };
}

export const experiment: Experiment<RedundantParams, RedundantResult> = {
  id: 'redundant',
  title: 'Redundant variance',
  defaults,
  parseParams,
  cost,
  run,
  toJSON,
  figures,
};
