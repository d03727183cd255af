// Figures of the sensitivity experiment (supplementary Fig. 7, Table 5), built with Observable
// Plot in a given document: FID and IS heatmaps over (T, s) that fill as cells arrive, the metrics
// along T for each s and along s for each T, a point's samples, and the Table 5 block.
import * as Plot from '@observablehq/plot';
import type { Figure } from '../experiments/types';
import { base64ToBytes, bytesToBase64 } from '../experiments/pixels';
import { DECOUPLED_POINT, DEFAULT_POINT, findCell, type SensitivityCell, type SensitivityResult, type Table5Entry } from '../experiments/sensitivity-grid';
import { encodePng, imageGrid } from '../io/png';

export type Metric = 'fid' | 'is';

interface GridPoint {
  T: number;
  s: number;
  /** cell index */
  index: number;
  cell: SensitivityCell | null;
}

function gridPoints(r: SensitivityResult): GridPoint[] {
  return r.T.flatMap((T, iT) => r.s.map((s, iS) => ({ T, s, index: iT * r.s.length + iS, cell: r.cells[iT * r.s.length + iS] })));
}

function metricLabel(r: SensitivityResult, metric: Metric): string {
  return metric === 'fid' ? r.fidLabel : r.isLabel;
}

/** "23.3", "4.12"; "–" for a missing value */
export function formatMetric(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function describe(p: GridPoint, r: SensitivityResult): string {
  const c = p.cell;
  if (!c) return `T = ${p.T}, s = ${p.s}: pending`;
  const bad = c.nonFinite ? `, ${c.nonFinite} non-finite left out` : '';
  return `T = ${p.T}, s = ${p.s}\n${r.fidLabel}: ${formatMetric(c.fid)}\n${r.isLabel}: ${formatMetric(c.is)}\n${c.finite} of ${c.n} samples${bad}, ${c.seconds.toFixed(1)} s`;
}

/** A render transform that tags each drawn element with its datum's cell index (`data-cell`). */
function tagCells(points: GridPoint[]): Plot.RenderFunction {
  return (index, scales, values, dimensions, context, next) => {
    const g = next!(index, scales, values, dimensions, context)!;
    g.querySelectorAll('rect').forEach((rect, i) => {
      rect.setAttribute('data-cell', String(points[index[i]].index));
      rect.setAttribute('style', 'cursor: pointer');
    });
    return g;
  };
}

/**
 * FID or IS over the (T, s) grid; cells not yet computed are grey. The paper's decoupled point
 * (T = 1.3, s = 0.9) has a solid outline, `selected` a dashed one. Every cell's rect carries
 * `data-cell` (its index) for click handling.
 */
export function heatmap(r: SensitivityResult, metric: Metric, doc: Document, { selected }: { selected?: number } = {}): SVGElement | HTMLElement {
  const points = gridPoints(r);
  const done = points.filter((p) => p.cell && p.cell[metric] !== null);
  const paper = points.filter((p) => p.index === findCell(r, DECOUPLED_POINT.T, DECOUPLED_POINT.s));
  const chosen = points.filter((p) => p.index === selected);
  return Plot.plot({
    document: doc,
    title: metric === 'fid' ? 'FID over (T, s): lower is better' : 'IS over (T, s): higher is better',
    subtitle: `${metricLabel(r, metric)}; grey: not computed yet; outlined: the paper's s = 0.9, T = 1.3`,
    width: Math.max(320, 90 * r.T.length + 100),
    height: 56 * r.s.length + 70,
    marginLeft: 70,
    padding: 0.04,
    x: { type: 'band', domain: r.T, label: 'mixture temperature T →', tickFormat: String },
    y: { type: 'band', domain: r.s, reverse: true, label: '↑ Gaussian scale s (× σ)', tickFormat: String },
    // values are printed in the cells; no ramp legend (it needs a canvas, which jsdom lacks)
    color: { type: 'linear', scheme: metric === 'fid' ? 'YlOrRd' : 'YlGnBu', ...(done.length ? {} : { domain: [0, 1] }) },
    marks: [
      Plot.cell(points, { x: 'T', y: 's', fill: '#e8e8e8' }),
      Plot.cell(done, { x: 'T', y: 's', fill: (p: GridPoint) => p.cell![metric] }),
      Plot.text(points, { x: 'T', y: 's', text: (p: GridPoint) => (p.cell ? formatMetric(p.cell[metric]) : '…'), fill: 'black', stroke: 'white', strokeWidth: 3, fontSize: 12 }),
      Plot.cell(paper, { x: 'T', y: 's', fill: 'none', stroke: 'black', strokeWidth: 2.5, inset: 1.5 }),
      Plot.cell(chosen, { x: 'T', y: 's', fill: 'none', stroke: '#1f5fbf', strokeWidth: 2.5, strokeDasharray: '5,3', inset: 4 }),
      Plot.cell(points, { x: 'T', y: 's', fill: 'white', fillOpacity: 0, title: (p: GridPoint) => describe(p, r), render: tagCells(points) }),
    ],
  }) as SVGElement | HTMLElement;
}

/** FID or IS against T with one line per s (`along` = "T"), or against s with one line per T. */
export function metricLines(r: SensitivityResult, metric: Metric, along: 'T' | 's', doc: Document): SVGElement | HTMLElement {
  const other = along === 'T' ? 's' : 'T';
  const done = gridPoints(r).filter((p) => p.cell && p.cell[metric] !== null);
  const key = (p: GridPoint) => `${other} = ${p[other]}`;
  const paper = along === 'T' ? DECOUPLED_POINT.T : DECOUPLED_POINT.s;
  return Plot.plot({
    document: doc,
    title: `${metric === 'fid' ? 'FID' : 'IS'} against ${along}, one line per ${other}`,
    width: 420,
    height: 260,
    marginLeft: 56,
    x: { label: along === 'T' ? 'mixture temperature T' : 'Gaussian scale s (× σ)', ticks: r[along], tickFormat: String },
    y: { label: metricLabel(r, metric), grid: true, zero: false },
    color: { type: 'ordinal', domain: r[other].map((v) => `${other} = ${v}`), scheme: 'viridis', legend: true },
    marks: [
      Plot.ruleX([paper], { stroke: '#999', strokeDasharray: '3,3' }),
      Plot.line(done, { x: along, y: (p: GridPoint) => p.cell![metric], stroke: key, marker: 'circle', sort: along }),
    ],
  }) as SVGElement | HTMLElement;
}

/** The kept samples of cell `index` as one PNG grid inside a figure with a caption. */
export function sampleGrid(r: SensitivityResult, index: number, doc: Document, { cols = 8, pixelsPerImage = 84 } = {}): HTMLElement {
  const figure = doc.createElement('figure');
  figure.setAttribute('class', 'sensitivity-samples');
  const caption = doc.createElement('figcaption');
  const cell = r.cells[index];
  const { height: H, width: W, channels: C } = r.image;
  if (!cell || cell.kept === 0) {
    caption.textContent = cell ? `T = ${cell.T}, s = ${cell.s}: no finite samples to show` : 'this point has not been computed yet';
    figure.append(caption);
    return figure;
  }
  const grid = imageGrid(base64ToBytes(cell.samples), cell.kept, H, W, C, cols, 1, 0);
  const scale = Math.max(1, Math.round(pixelsPerImage / H));
  const img = doc.createElement('img');
  img.setAttribute('src', `data:image/png;base64,${bytesToBase64(encodePng(grid))}`);
  img.setAttribute('width', String(grid.width * scale));
  img.setAttribute('height', String(grid.height * scale));
  img.setAttribute('style', 'image-rendering: pixelated');
  img.setAttribute('alt', `${cell.kept} samples at T = ${cell.T}, s = ${cell.s}`);
  const bad = cell.nonFinite ? `; ${cell.nonFinite} non-finite samples left out` : '';
  caption.textContent = `Samples at T = ${cell.T}, s = ${cell.s} (first ${cell.kept} finite of ${cell.n}, labels ${r.labels}${bad}). ${r.fidLabel}: ${formatMetric(cell.fid)}.`;
  figure.append(img, caption);
  return figure;
}

function entryText(e: Table5Entry | null, available = true): string {
  if (!available) return 'n/a';
  if (!e) return '…';
  const bad = e.nonFinite ? ` (${e.nonFinite} non-finite left out)` : '';
  return `${formatMetric(e.fid)}${bad}`;
}

/** This model's Table 5: FID without and with CFG at the default and the decoupled setting. */
export function table5Table(r: SensitivityResult, doc: Document): HTMLElement {
  const figure = doc.createElement('figure');
  figure.setAttribute('class', 'sensitivity-table5');
  const t5 = r.table5;
  const caption = doc.createElement('figcaption');
  if (!t5) {
    caption.textContent = 'Table 5 was not run.';
    figure.append(caption);
    return figure;
  }
  const table = doc.createElement('table');
  const head = table.createTHead().insertRow();
  for (const h of ['setting', 'T', 's', 'without CFG', t5.cfgAvailable ? 'with CFG' : 'with CFG (not available)']) {
    const th = doc.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of t5.rows) {
    const tr = body.insertRow();
    const values = [row.setting === 'default' ? 'default' : 'decoupled (paper)', String(row.T), String(row.s), entryText(row.unguided), entryText(row.guided, t5.cfgAvailable)];
    for (const v of values) tr.insertCell().textContent = v;
  }
  caption.textContent = `${r.fidLabel}, ${r.n} samples against ${r.n} test images. ${t5.note}. ` +
    'Paper (ImageNet 256², Inception features): unguided 44.56 at T = 1, s = 1 and 23.29 at T = 1.3, s = 0.9 (1.1B); ' +
    'Table 5, FARMER 1.1B p16: 5.40 with CFG, 23.07 without. Compare trends, not absolute values.';
  figure.append(table, caption);
  return figure;
}

/** The point whose samples the figures show by default: the paper's, else the first computed. */
export function defaultSelection(r: SensitivityResult): number {
  const paper = findCell(r, DECOUPLED_POINT.T, DECOUPLED_POINT.s);
  if (paper >= 0 && r.cells[paper]) return paper;
  const first = r.cells.findIndex((c) => c !== null);
  return first >= 0 ? first : Math.max(0, findCell(r, DEFAULT_POINT.T, DEFAULT_POINT.s));
}

export function sensitivityFigures(r: SensitivityResult, doc: Document, { selected = defaultSelection(r) }: { selected?: number } = {}): Figure[] {
  return [
    { name: 'fid-heatmap', node: heatmap(r, 'fid', doc, { selected }) },
    { name: 'is-heatmap', node: heatmap(r, 'is', doc, { selected }) },
    { name: 'fid-vs-T', node: metricLines(r, 'fid', 'T', doc) },
    { name: 'fid-vs-s', node: metricLines(r, 'fid', 's', doc) },
    { name: 'is-vs-T', node: metricLines(r, 'is', 'T', doc) },
    { name: 'is-vs-s', node: metricLines(r, 'is', 's', doc) },
    { name: 'samples', node: sampleGrid(r, selected, doc) },
    { name: 'table5', node: table5Table(r, doc) },
  ];
}
