// Bookkeeping of the sensitivity experiment (supplementary §7, Fig. 7, Table 5): the (T, s) grid,
// per-point seeds, the result type and the pure reducer that assembles partial results, shared by
// the run (worker / CLI) and the page that fills its heatmaps cell by cell.
import type { ResamplingParams } from '../farmer/guidance-preset';
import type { PngImage } from './pixels';

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
  /** the kept samples as the figures place them (plots/sensitivity samplePictures); null when none is kept */
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
    if (!(p.index >= 0 && p.index < r.cells.length)) throw new Error(`sensitivity: cell index ${p.index} outside the grid`);
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
  const iT = r.T.findIndex((v) => sameValue(v, T)), iS = r.s.findIndex((v) => sameValue(v, s));
  return iT < 0 || iS < 0 ? -1 : cellIndex(r, iT, iS);
}

function sameValue(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** The sampling seed of a run at (T, s): the same seed, T, s and guidance give the same samples. */
export function pointSeed(seed: number, T: number, s: number, guided = false): number {
  let h = mix(seed >>> 0, Math.floor(seed / 2 ** 32));
  h = mix(h, Math.round(T * 1e4));
  h = mix(h, Math.round(s * 1e4));
  return mix(h, guided ? 1 : 0);
}

/** The seed of the batch starting at sample `start` of a run. */
export function batchSeed(runSeed: number, start: number): number {
  return mix(runSeed, start);
}

/**
 * A list of positive numbers from "0.8, 1, 1.3" (commas or spaces) or an array; sorted ascending,
 * duplicates dropped. Throws `invalid ${name}: …`.
 */
export function parseList(raw: unknown, name: string, { min = 0, max = 10, maxLength = 12 } = {}): number[] {
  const parts = Array.isArray(raw) ? raw : typeof raw === 'number' ? [raw] : typeof raw === 'string' ? raw.split(/[\s,;]+/).filter((t) => t !== '') : null;
  if (!parts) throw new Error(`invalid ${name}: expected a list of numbers, got ${typeof raw}`);
  const values = parts.map((t) => (typeof t === 'number' ? t : typeof t === 'string' ? Number(t) : NaN));
  const bad = values.findIndex((v) => !Number.isFinite(v) || v <= min || v > max);
  if (bad >= 0) throw new Error(`invalid ${name}: ${JSON.stringify(parts[bad])} is not a number in (${min}, ${max}]`);
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  if (sorted.length === 0) throw new Error(`invalid ${name}: the list is empty`);
  if (sorted.length > maxLength) throw new Error(`invalid ${name}: ${sorted.length} values, at most ${maxLength}`);
  return sorted;
}

/** The canonical text of a list: "0.8,1,1.3". */
export function formatList(values: number[]): string {
  return values.map(String).join(',');
}
