// Bookkeeping of the sensitivity experiment (suppl. Fig. 7, Table 5): the (T, s) grid, per-point
// seeds, the result type and the pure reducer that assembles partial results, shared by the run
// (worker / CLI), the figures and the page that fills its heatmaps cell by cell.
import type { FarmerModel } from '../../farmer/model';
import { TABLE6_PRESET, type ResamplingParams } from '../../farmer/guidance-preset';
import { tileImages, type PngImage } from '../../plots/pixels';
import { mixSeed } from '../../util/seeds';

/** The paper's points: the default and the decoupled setting (s = 0.9, T = 1.3). */
export const DEFAULT_POINT = { T: 1, s: 1 } as const;
export const DECOUPLED_POINT = { T: 1.3, s: 0.9 } as const;

/** Metrics of one sampling run of n images. */
export interface PointMetrics {
  /** FID of the finite samples against the n test images; null below 2 finite samples */
  fid: number | null;
  /** Inception Score of the finite samples (the feature net's first head); null with none */
  is: number | null;
  /** samples drawn */
  n: number;
  /** samples left in the metrics */
  finite: number;
  /** samples holding NaN or Inf, excluded from the metrics */
  nonFinite: number;
  /** sampling seed of this run, derived from (seed, T, s, guided) */
  seed: number;
  /** wall-clock seconds: sampling and features */
  seconds: number;
}

export interface SensitivityCell extends PointMetrics {
  /** mixture temperature */
  T: number;
  /** Gaussian scale (multiplies σ) */
  s: number;
  /** finite samples kept for the sample grid */
  kept: number;
  /** base64 of uint8 [kept, H, W, C] */
  samples: string;
  /** the kept samples as the figures place them (samplePictures); null when none is kept */
  pictures: SamplePictures | null;
}

/** A point's kept samples encoded by the run (the worker), so the page's figures only place them. */
export interface SamplePictures {
  /** the first few, tiled for the overview's tile of this point */
  overview: PngImage;
  /** all kept, tiled for the sample grid */
  all: PngImage;
}

export interface Table5Entry extends PointMetrics {
  /** null: unguided; else resampling CFG with these knobs */
  cfg: { method: 'resampling'; w: number; params: ResamplingParams } | null;
  /** the same run as the grid cell at this (T, s) (same seed, same numbers) */
  fromGrid: boolean;
}

export interface Table5Row {
  setting: 'default' | 'decoupled';
  T: number;
  s: number;
  unguided: Table5Entry | null;
  /** null until run, and always for models without CFG */
  guided: Table5Entry | null;
}

export interface Table5 {
  rows: Table5Row[];
  /** false for an unconditional model or a Gaussian prior: unguided column only */
  cfgAvailable: boolean;
  /** why CFG is missing, or how it was set up */
  note: string;
}

export interface SensitivityResult {
  /** grid axes, ascending */
  T: number[];
  s: number[];
  /** samples per point and test images in the FID reference */
  n: number;
  seed: number;
  /** e.g. "mnist-cnn" */
  featureNet: string;
  /** "FID (<net> features, not Inception)" */
  fidLabel: string;
  isLabel: string;
  image: { height: number; width: number; channels: number };
  /** "cycling 0..C−1" for conditional models, "null" otherwise */
  labels: string;
  /** index iT·s.length + iS; null until computed */
  cells: (SensitivityCell | null)[];
  table5: Table5 | null;
  notes: string[];
}

export type SensitivityPartial =
  | { kind: 'start'; result: SensitivityResult }
  | { kind: 'cell'; index: number; cell: SensitivityCell }
  | { kind: 'table5'; row: number; column: 'unguided' | 'guided'; entry: Table5Entry };

/** Applies one partial result; returns a new object (the old one is not changed). */
export function applyPartial(r: SensitivityResult | null, p: SensitivityPartial): SensitivityResult {
  if (p.kind === 'start') return structuredClone(p.result);
  if (!r) throw new Error(`sensitivity: a "${p.kind}" partial result before "start"`);
  if (p.kind === 'cell') {
    if (!(p.index >= 0 && p.index < r.cells.length))
      throw new Error(`sensitivity: cell index ${p.index} outside the grid`);
    const cells = r.cells.slice();
    cells[p.index] = p.cell;
    return { ...r, cells };
  }
  if (!r.table5 || !r.table5.rows[p.row]) throw new Error(`sensitivity: no Table 5 row ${p.row}`);
  const rows = r.table5.rows.map((row, i) => (i === p.row ? { ...row, [p.column]: p.entry } : row));
  return { ...r, table5: { ...r.table5, rows } };
}

/** Cell index of (iT, iS). */
export function cellIndex(r: { s: number[] }, iT: number, iS: number): number {
  return iT * r.s.length + iS;
}

/** Index of the grid cell at (T, s), or -1. */
export function findCell(r: { T: number[]; s: number[] }, T: number, s: number): number {
  const iT = r.T.findIndex((v) => sameValue(v, T)),
    iS = r.s.findIndex((v) => sameValue(v, s));
  return iT < 0 || iS < 0 ? -1 : cellIndex(r, iT, iS);
}

function sameValue(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}

/** The sampling seed of a run at (T, s): the same seed, T, s and guidance give the same samples. */
export function pointSeed(seed: number, T: number, s: number, guided = false): number {
  let h = mixSeed(seed >>> 0, Math.floor(seed / 2 ** 32));
  h = mixSeed(h, Math.round(T * 1e4));
  h = mixSeed(h, Math.round(s * 1e4));
  return mixSeed(h, guided ? 1 : 0);
}

/** Whether the model supports classifier-free guidance (a FARMER prior with class labels). */
export function cfgAvailable(model: FarmerModel): boolean {
  return model.config.num_classes > 0 && model.config.prior.kind === 'farmer';
}

/** Resampling CFG at Table 6's preset, with the row's (T, s) folded into the proposal (ours). */
export function cfgParams(T: number, s: number): ResamplingParams {
  return { ...TABLE6_PRESET, T_pi: TABLE6_PRESET.T_pi / T, T_sigma: TABLE6_PRESET.T_sigma * s };
}

/** Grid runs, extra unguided Table 5 runs (points not on the grid) and CFG runs. */
export function runPlan(
  p: { T: number[]; s: number[]; table5: boolean },
  model: FarmerModel,
): { grid: number; extraUnguided: number; guided: number } {
  const extra = p.table5 ? [DEFAULT_POINT, DECOUPLED_POINT].filter((q) => findCell(p, q.T, q.s) < 0).length : 0;
  return { grid: p.T.length * p.s.length, extraUnguided: extra, guided: p.table5 && cfgAvailable(model) ? 2 : 0 };
}

/** Samples in each overview tile, and its columns; columns of the sample grid. */
export const OVERVIEW_SAMPLES = 4;
export const OVERVIEW_COLS = 2;
const GRID_COLS = 8;

/**
 * `kept` samples uint8 [kept, H, W, C] tiled and encoded as the figures place them: the first
 * OVERVIEW_SAMPLES for the overview, all for the sample grid. Run in the worker; null for none.
 */
export function samplePictures(
  pixels: Uint8Array,
  kept: number,
  image: SensitivityResult['image'],
): SamplePictures | null {
  if (kept === 0) return null;
  const { height: H, width: W, channels: C } = image;
  const tile = (count: number, cols: number) =>
    tileImages(pixels.subarray(0, count * H * W * C), count, H, W, C, { cols, gap: 1, border: true });
  return { overview: tile(Math.min(OVERVIEW_SAMPLES, kept), OVERVIEW_COLS), all: tile(kept, GRID_COLS) };
}

/** The point whose samples the page shows first: the paper's, else the first computed. */
export function defaultSelection(r: SensitivityResult): number {
  const paper = findCell(r, DECOUPLED_POINT.T, DECOUPLED_POINT.s);
  if (paper >= 0 && r.cells[paper]) return paper;
  const first = r.cells.findIndex((c) => c !== null);
  return first >= 0 ? first : Math.max(0, findCell(r, DEFAULT_POINT.T, DEFAULT_POINT.s));
}
