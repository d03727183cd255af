// Figures of the sensitivity experiment (suppl. Fig. 7, Table 5), built with Observable Plot in a
// given document: FID and IS heatmaps over (T, s) that fill as cells arrive, the metrics along T
// for each s and along s for each T, a point's samples, and the Table 5 block.
import * as Plot from '@observablehq/plot';
import { TABLE6_W } from '../../farmer/guidance-preset';
import { viridisSeries } from '../../plots/colours';
import { formatMetric, metricFormatter } from '../../plots/format';
import { composeSvg, el, pixelImage, svgRoot } from '../../plots/svg';
import type { Figure } from '../types';
import {
  DECOUPLED_POINT,
  OVERVIEW_COLS,
  OVERVIEW_SAMPLES,
  findCell,
  type SensitivityCell,
  type SensitivityResult,
  type Table5Entry,
  type Table5Row,
} from './result';

export type Metric = 'fid' | 'is';

interface GridPoint {
  T: number;
  s: number;
  /** cell index */
  index: number;
  cell: SensitivityCell | null;
}

function gridPoints(r: SensitivityResult): GridPoint[] {
  return r.T.flatMap((T, iT) =>
    r.s.map((s, iS) => ({ T, s, index: iT * r.s.length + iS, cell: r.cells[iT * r.s.length + iS] })),
  );
}

function metricLabel(r: SensitivityResult, metric: Metric): string {
  return metric === 'fid' ? r.fidLabel : r.isLabel;
}

/** A render transform for labels at the ends of lines: moves them apart vertically to at least `gap` px, in their order. */
function spreadLabels(gap = 13): Plot.RenderFunction {
  return (index, scales, values, dimensions, context, next) => {
    const Y = Array.from(values.y as ArrayLike<number>);
    const order = [...index].sort((a, b) => Y[a] - Y[b]);
    for (let k = 1; k < order.length; k++) Y[order[k]] = Math.max(Y[order[k]], Y[order[k - 1]] + gap);
    // labels pushed below the plot area move up together
    const over = order.length ? Y[order[order.length - 1]] - (dimensions.height - dimensions.marginBottom) : 0;
    if (over > 0) for (const i of order) Y[i] -= over;
    return next!(index, scales, { ...values, y: Y } as Plot.ChannelValues, dimensions, context);
  };
}

function describe(p: GridPoint, r: SensitivityResult): string {
  const c = p.cell;
  if (!c) return `T = ${p.T}, s = ${p.s}: pending`;
  const bad = c.nonFinite ? `, ${c.nonFinite} non-finite left out` : '';
  return `T = ${p.T}, s = ${p.s}\n${r.fidLabel}: ${formatMetric(c.fid)}\n${r.isLabel}: ${formatMetric(c.is)}\n${c.finite} of ${c.n} samples${bad}, ${c.seconds.toFixed(1)} s`;
}

/** A render transform that tags each drawn rect with its grid point's cell index (`data-point`). */
function tagPoints(points: GridPoint[]): Plot.RenderFunction {
  return (index, scales, values, dimensions, context, next) => {
    const g = next!(index, scales, values, dimensions, context)!;
    g.querySelectorAll('rect').forEach((rect, i) => {
      rect.setAttribute('data-point', String(points[index[i]].index));
      rect.setAttribute('style', 'cursor: pointer');
    });
    return g;
  };
}

/**
 * FID or IS over the (T, s) grid; cells not yet computed are grey, the paper's decoupled point
 * (T = 1.3, s = 0.9) is outlined. Every cell's rect carries `data-point` (its cell index) for
 * click handling.
 */
export function heatmap(r: SensitivityResult, metric: Metric, doc: Document): SVGSVGElement {
  const points = gridPoints(r);
  const done = points.filter((p) => p.cell && p.cell[metric] !== null);
  const paper = points.filter((p) => p.index === findCell(r, DECOUPLED_POINT.T, DECOUPLED_POINT.s));
  const format = metricFormatter(done.map((p) => p.cell![metric]));
  const chart = Plot.plot({
    document: doc,
    width: Math.max(360, 90 * r.T.length + 100),
    height: 56 * r.s.length + 70,
    marginLeft: 70,
    padding: 0.04,
    x: { type: 'band', domain: r.T, label: 'mixture temperature T →', tickFormat: String },
    y: { type: 'band', domain: r.s, reverse: true, label: '↑ Gaussian scale s (× σ)', tickFormat: String },
    // values are printed in the cells; no ramp legend (it needs a canvas, which jsdom lacks)
    color: {
      type: 'linear',
      scheme: metric === 'fid' ? 'YlOrRd' : 'YlGnBu',
      ...(done.length ? {} : { domain: [0, 1] }),
    },
    marks: [
      Plot.cell(points, { x: 'T', y: 's', fill: '#e8e8e8' }),
      Plot.cell(done, { x: 'T', y: 's', fill: (p: GridPoint) => p.cell![metric] }),
      Plot.text(points, {
        x: 'T',
        y: 's',
        text: (p: GridPoint) => (p.cell ? format(p.cell[metric]) : '…'),
        fill: 'black',
        stroke: 'white',
        strokeWidth: 3,
        fontSize: 12,
      }),
      Plot.cell(paper, { x: 'T', y: 's', fill: 'none', stroke: 'black', strokeWidth: 2.5, inset: 1.5 }),
      Plot.cell(points, {
        x: 'T',
        y: 's',
        fill: 'white',
        fillOpacity: 0,
        title: (p: GridPoint) => describe(p, r),
        render: tagPoints(points),
      }),
    ],
  }) as SVGSVGElement;
  return composeSvg(doc, [chart], {
    title: metric === 'fid' ? 'FID over (T, s): lower is better' : 'IS over (T, s): higher is better',
    subtitle: [metricLabel(r, metric)],
    note: `${r.n} samples per point${metric === 'fid' ? ` against ${r.n} test images` : ''}; grey: not computed yet; outlined: the paper's s = 0.9, T = 1.3.`,
  });
}

/** FID or IS against T with one line per s (`along` = "T"), or against s with one line per T; lines labelled at their ends. */
export function metricLines(r: SensitivityResult, metric: Metric, along: 'T' | 's', doc: Document): SVGSVGElement {
  const other = along === 'T' ? 's' : 'T';
  const done = gridPoints(r).filter((p) => p.cell && p.cell[metric] !== null);
  const key = (p: GridPoint) => `${other} = ${p[other]}`;
  const ends = r[other].flatMap((v) => {
    const line = done.filter((p) => p[other] === v);
    return line.length ? [line.reduce((a, b) => (b[along] > a[along] ? b : a))] : [];
  });
  const paper = along === 'T' ? DECOUPLED_POINT.T : DECOUPLED_POINT.s;
  const chart = Plot.plot({
    document: doc,
    width: 440,
    height: 250,
    marginLeft: 56,
    marginRight: 64,
    x: {
      label: along === 'T' ? 'mixture temperature T →' : 'Gaussian scale s (× σ) →',
      ticks: r[along],
      tickFormat: String,
    },
    y: { label: metric === 'fid' ? '↑ FID' : '↑ IS', grid: true, zero: false },
    color: { type: 'ordinal', domain: r[other].map((v) => `${other} = ${v}`), range: viridisSeries(r[other].length) },
    marks: [
      Plot.ruleX([paper], { stroke: '#999', strokeDasharray: '3,3' }),
      Plot.line(done, { x: along, y: (p: GridPoint) => p.cell![metric], stroke: key, marker: 'circle', sort: along }),
      Plot.text(ends, {
        x: along,
        y: (p: GridPoint) => p.cell![metric],
        text: key,
        fill: key,
        dx: 8,
        textAnchor: 'start',
        fontSize: 11,
        render: spreadLabels(),
      }),
    ],
  }) as SVGSVGElement;
  return composeSvg(doc, [chart], {
    title: `${metric === 'fid' ? 'FID' : 'IS'} against ${along}, one line per ${other}`,
    subtitle: [metricLabel(r, metric)],
    note: `dashed: the paper's ${along} = ${paper}`,
  });
}

function pointTitle(cell: SensitivityCell, r: SensitivityResult): string {
  const bad = cell.nonFinite ? `, ${cell.nonFinite} non-finite left out` : '';
  return `T = ${cell.T}, s = ${cell.s}: ${formatMetric(cell.fid)} FID, ${formatMetric(cell.is)} IS (${cell.finite} of ${cell.n} samples${bad})`;
}

/**
 * The kept samples of cell `index`, as one SVG (an embedded PNG, drawn with square pixels) with
 * a heading line.
 */
export function sampleGrid(r: SensitivityResult, index: number, doc: Document, { imageSize = 56 } = {}): SVGSVGElement {
  const cell = r.cells[index] ?? null;
  const head = 40;
  if (!cell || !cell.pictures) {
    const svg = svgRoot(doc, 480, 24, { 'font-size': 12 });
    const what = cell
      ? `T = ${cell.T}, s = ${cell.s}: no finite samples to show`
      : 'this point has not been computed yet';
    svg.append(el(doc, 'text', { x: 0, y: 15 }, what));
    return svg;
  }
  const png = cell.pictures.all;
  const scale = imageSize / r.image.height;
  const width = Math.max(480, Math.round(png.width * scale)),
    height = Math.round(png.height * scale) + head;
  const svg = svgRoot(doc, width, height, { 'font-size': 12, 'data-point': index });
  svg.append(
    el(doc, 'text', { x: 0, y: 14 }, pointTitle(cell, r)),
    el(doc, 'text', { x: 0, y: 31, fill: '#555' }, `the first ${cell.kept} finite samples; labels ${r.labels}`),
    pixelImage(doc, png.href, 0, head, Math.round(png.width * scale), Math.round(png.height * scale)),
  );
  return svg;
}

/**
 * The first `perPoint` samples of every grid point laid out like the heatmaps (T across, s up),
 * as one SVG; each point's image carries `data-point` (its cell index) for click handling.
 */
export function samplesOverview(r: SensitivityResult, doc: Document, { imageSize = 36 } = {}): SVGSVGElement {
  const perPoint = OVERVIEW_SAMPLES,
    cols = OVERVIEW_COLS,
    rows = Math.ceil(perPoint / cols);
  const { height: H, width: W } = r.image,
    scale = imageSize / H;
  const tileW = (cols * (W + 1) + 1) * scale,
    tileH = (rows * (H + 1) + 1) * scale,
    gap = 10;
  const left = 76,
    top = 46;
  const width = Math.max(380, left + r.T.length * (tileW + gap)),
    height = top + r.s.length * (tileH + gap) + 4;
  const svg = svgRoot(doc, width, height);
  svg.append(
    el(
      doc,
      'text',
      { x: 0, y: 13, 'font-size': 13, 'font-weight': 'bold' },
      `Samples over (T, s): the first ${perPoint} of each point`,
    ),
    el(doc, 'text', { x: left, y: 30 }, 'mixture temperature T →'),
  );
  r.T.forEach((T, iT) =>
    svg.append(
      el(doc, 'text', { x: left + iT * (tileW + gap) + tileW / 2, y: 42, 'text-anchor': 'middle' }, String(T)),
    ),
  );
  // s ascending upward, as in the heatmaps
  r.s.forEach((s, iS) => {
    const y = top + (r.s.length - 1 - iS) * (tileH + gap);
    svg.append(el(doc, 'text', { x: left - 8, y: y + tileH / 2 + 4, 'text-anchor': 'end' }, `s = ${s}`));
    r.T.forEach((T, iT) => {
      const index = iT * r.s.length + iS,
        cell = r.cells[index],
        x = left + iT * (tileW + gap);
      const box = el(doc, 'rect', {
        x,
        y,
        width: tileW,
        height: tileH,
        fill: '#e8e8e8',
        'data-point': index,
        style: 'cursor: pointer',
      });
      box.append(el(doc, 'title', {}, cell ? pointTitle(cell, r) : `T = ${T}, s = ${s}: pending`));
      svg.append(box);
      if (!cell || !cell.pictures) {
        svg.append(
          el(
            doc,
            'text',
            { x: x + tileW / 2, y: y + tileH / 2 + 4, 'text-anchor': 'middle', fill: '#666', 'pointer-events': 'none' },
            cell ? 'none finite' : '…',
          ),
        );
        return;
      }
      const png = cell.pictures.overview;
      const img = pixelImage(doc, png.href, x, y, png.width * scale, png.height * scale, {
        style: 'image-rendering: pixelated; cursor: pointer',
        'data-point': index,
      });
      img.append(el(doc, 'title', {}, pointTitle(cell, r)));
      svg.append(img);
    });
  });
  return svg;
}

/** This model's Table 5 as a small table chart: FID without and with CFG at the two settings. */
export function table5Figure(r: SensitivityResult, doc: Document): SVGSVGElement {
  const t5 = r.table5;
  if (!t5) {
    const svg = svgRoot(doc, 420, 24, { 'font-size': 12 });
    svg.append(el(doc, 'text', { x: 0, y: 15 }, 'Table 5 was not run (table5 = false).'));
    return svg;
  }
  const columns = [
    'without CFG',
    t5.cfgAvailable ? `with CFG (resampling, w = ${TABLE6_W})` : 'with CFG (not available)',
  ];
  const rowName = (row: Table5Row) =>
    `${row.setting === 'default' ? 'default' : 'decoupled (paper)'}: T = ${row.T}, s = ${row.s}`;
  const entries = t5.rows.flatMap((row) => [
    { row: rowName(row), column: columns[0], entry: row.unguided, text: entryText(row.unguided) },
    { row: rowName(row), column: columns[1], entry: row.guided, text: entryText(row.guided, t5.cfgAvailable) },
  ]);
  const done = entries.filter((e) => e.entry && e.entry.fid !== null);
  const chart = Plot.plot({
    document: doc,
    width: 560,
    height: 60 * t5.rows.length + 40,
    marginLeft: 200,
    padding: 0.04,
    x: { type: 'band', domain: columns, label: null, axis: 'top' },
    y: { type: 'band', domain: t5.rows.map(rowName), label: null },
    color: { type: 'linear', scheme: 'YlOrRd', ...(done.length ? {} : { domain: [0, 1] }) },
    marks: [
      Plot.cell(entries, { x: 'column', y: 'row', fill: '#e8e8e8' }),
      Plot.cell(done, { x: 'column', y: 'row', fill: (e: (typeof entries)[number]) => e.entry!.fid }),
      Plot.text(entries, {
        x: 'column',
        y: 'row',
        text: 'text',
        fill: 'black',
        stroke: 'white',
        strokeWidth: 3,
        fontSize: 13,
      }),
    ],
  }) as SVGSVGElement;
  return composeSvg(doc, [chart], {
    title: 'Table 5 on this model: FID without and with CFG',
    subtitle: [`${r.fidLabel}; ${r.n} samples against ${r.n} test images`],
    note:
      `${t5.note}. Paper (ImageNet 256², Inception features): unguided FID 44.56 at T = 1, s = 1 and 23.29 at T = 1.3, s = 0.9 (1.1B); ` +
      'Table 5, FARMER 1.1B p16: 5.40 with CFG, 23.07 without. Compare trends, not absolute values.',
  });
}

function entryText(e: Table5Entry | null, available = true): string {
  if (!available) return 'n/a';
  if (!e) return '…';
  return e.nonFinite ? `${formatMetric(e.fid)} (${e.nonFinite} non-finite left out)` : formatMetric(e.fid);
}

/** The figures one by one: heatmaps, metric lines, the sample overview, Table 5. */
export function* sensitivityFigures(r: SensitivityResult, doc: Document): Generator<Figure> {
  yield { name: 'fid-heatmap', node: heatmap(r, 'fid', doc) };
  yield { name: 'is-heatmap', node: heatmap(r, 'is', doc) };
  yield { name: 'fid-vs-T', node: metricLines(r, 'fid', 'T', doc) };
  yield { name: 'fid-vs-s', node: metricLines(r, 'fid', 's', doc) };
  yield { name: 'is-vs-T', node: metricLines(r, 'is', 'T', doc) };
  yield { name: 'is-vs-s', node: metricLines(r, 'is', 's', doc) };
  yield { name: 'samples', node: samplesOverview(r, doc) };
  yield { name: 'table5', node: table5Figure(r, doc) };
}
