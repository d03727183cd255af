// Figures of the logdet notebook, built with Observable Plot in a given document (the browser's
// or jsdom's). Points keep their source and index so a page can show the image behind a click:
// the scatter's `node.value` is the pointed ImagePoint (Plot's pointer, with an "input" event),
// and gallery thumbnails carry data-source / data-index.
import * as Plot from '@observablehq/plot';
import type { ImagePoint, Source } from '../experiments/logdet';
import type { Correlation } from '../metrics/rank';
import type { OutlierRule } from '../metrics/robust';
import { encodePng } from '../io/png';
import { bytesToBase64 } from '../experiments/pixels';

const SOURCE_NAME: Record<Source, string> = { test: 'test images', sample: 'samples' };
const SOURCES: Source[] = ['test', 'sample'];
const OUTLIER_COLORS = { domain: ['typical', 'outlier'], range: ['#8a9bb0', '#d1495b'] };

function status(p: { outlier: boolean }): string {
  return p.outlier ? 'outlier' : 'typical';
}

const NS = 'http://www.w3.org/2000/svg';

/**
 * Lays Plot SVGs out in one SVG, row by row, so a figure made of several charts still exports as
 * one self-contained file. Each part keeps its own size (inline style: Plot's own stylesheet would
 * stretch a nested <svg>).
 */
export function composeSvg(doc: Document, parts: readonly Element[], { columns = parts.length, gap = 10, title = '' } = {}): SVGSVGElement {
  const svg = doc.createElementNS(NS, 'svg') as SVGSVGElement;
  svg.setAttribute('font-family', 'system-ui, sans-serif');
  let y = 0, width = 0;
  if (title) {
    const t = doc.createElementNS(NS, 'text');
    t.setAttribute('x', '2');
    t.setAttribute('y', '13');
    t.setAttribute('font-size', '12');
    t.setAttribute('font-weight', '600');
    t.setAttribute('fill', 'currentColor');
    t.textContent = title;
    svg.append(t);
    y = 20;
  }
  for (let i = 0; i < parts.length; i += columns) {
    let x = 0, rowHeight = 0;
    for (const part of parts.slice(i, i + columns)) {
      if (part.localName !== 'svg') throw new Error(`composeSvg: part ${part.localName} is not an SVG`);
      const w = Number(part.getAttribute('width')), h = Number(part.getAttribute('height'));
      part.setAttribute('x', String(x));
      part.setAttribute('y', String(y));
      (part as SVGElement).style.cssText = `width: ${w}px; height: ${h}px; max-width: none; overflow: visible`;
      svg.append(part);
      x += w + gap;
      rowHeight = Math.max(rowHeight, h);
    }
    width = Math.max(width, x - gap);
    y += rowHeight + gap;
  }
  const height = Math.max(1, y - gap);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  return svg;
}

/** A colour key inside the chart, under the frame at the left (a legend outside it would be lost in SVG exports). */
function outlierKey(note = ''): Plot.Markish[] {
  const at = { frameAnchor: 'bottom-left', dy: 34, facet: 'super', fontSize: 11, textAnchor: 'start' } as const;
  return [
    Plot.text(['● typical'], { ...at, fill: OUTLIER_COLORS.range[0] }),
    Plot.text(['● outlier'], { ...at, dx: 60, fill: OUTLIER_COLORS.range[1] }),
    ...(note ? [Plot.text([note], { ...at, dx: 122, fill: 'currentColor', fillOpacity: 0.7 })] : []),
  ];
}

/** Histograms of total logdet, one row per source, outliers in red, the rule's cut-offs dashed. */
export function logdetHistogram(doc: Document, points: readonly ImagePoint[], rules: readonly (OutlierRule & { source: Source })[], { width = 640 } = {}): SVGElement {
  const cuts = rules.flatMap((r) => (r.scale > 0 ? [{ source: r.source, x: r.lower }, { source: r.source, x: r.upper }] : []));
  return Plot.plot({
    document: doc,
    width,
    height: 90 + 110 * new Set(points.map((p) => p.source)).size,
    marginBottom: 48,
    marginRight: 90,
    x: { label: 'logdet = log|det ∂Z/∂X| (nats) →', grid: true },
    y: { label: 'share of images', grid: true },
    fy: { label: null, domain: SOURCES.filter((s) => points.some((p) => p.source === s)), tickFormat: (s: Source) => SOURCE_NAME[s] },
    color: OUTLIER_COLORS,
    marks: [
      ...outlierKey('dashed: outlier cut-offs; grey line: median'),
      Plot.rectY(points, Plot.binX<Plot.RectYOptions>({ y: 'proportion-facet' }, { x: 'logdet', fy: 'source', fill: status, thresholds: 30 })),
      Plot.ruleX(cuts, { x: 'x', fy: 'source', stroke: '#d1495b', strokeDasharray: '4,3' }),
      Plot.ruleX(rules, { x: 'median', fy: 'source', stroke: 'currentColor', strokeOpacity: 0.6 }),
      Plot.ruleY([0]),
    ],
  }) as SVGElement;
}

/** One small histogram per flow block (each with its own x range), test and samples side by side. */
export function perBlockHistogram(doc: Document, points: readonly ImagePoint[], { width = 220, columns = 3 } = {}): SVGElement {
  const blocks = points[0]?.perBlock.length ?? 0;
  const sources = SOURCES.filter((s) => points.some((p) => p.source === s));
  const parts = Array.from({ length: blocks }, (_, k) =>
    Plot.plot({
      document: doc,
      width,
      height: 80 + 65 * sources.length,
      marginRight: 56,
      x: { label: `logdet of block ${k} (nats) →`, ticks: 4 },
      y: { label: 'share', grid: true, ticks: 3 },
      fy: { label: null, domain: sources, tickFormat: (s: Source) => (s === 'test' ? 'test' : 'samples') },
      marks: [
        Plot.rectY(points.map((p) => ({ source: p.source, logdet: p.perBlock[k] })), Plot.binX<Plot.RectYOptions>({ y: 'proportion-facet' }, { x: 'logdet', fy: 'source', fill: '#8a9bb0', thresholds: 15 })),
        Plot.ruleY([0]),
      ],
    }) as SVGElement,
  );
  return composeSvg(doc, parts, { columns, title: 'logdet per flow block (each with its own x range)' });
}

export interface HeatmapPanel {
  label: string;
  /** per-token logdet in raster order, rows·cols values */
  values: ArrayLike<number>;
}

/**
 * Per-token logdet maps on the rows × cols patch grid, side by side with one shared colour scale
 * (diverging: blue < 0 < red), its key above them, all in one SVG.
 */
export function tokenHeatmap(
  doc: Document,
  grid: { rows: number; cols: number },
  panels: HeatmapPanel | readonly HeatmapPanel[],
  { size = 200, title = '', label = 'logdet per token (nats)', unit = 'nats' } = {},
): SVGElement {
  const list: readonly HeatmapPanel[] = Array.isArray(panels) ? panels : [panels as HeatmapPanel];
  const { rows, cols } = grid;
  const cells = list.flatMap((panel) => {
    if (panel.values.length !== rows * cols) throw new Error(`invalid values: ${panel.values.length} for a ${rows}×${cols} grid`);
    return Array.from(panel.values, (value, t) => ({ panel: panel.label, row: Math.floor(t / cols), col: t % cols, token: t, value }));
  });
  let m = 0;
  for (const c of cells) m = Math.max(m, Math.abs(c.value));
  m = niceCeil(m);
  // quantized (8 bins, one edge at 0) so the key is drawn without a canvas (jsdom)
  const color = { type: 'quantize', n: 8, scheme: 'BuRd', domain: [-m, m], tickFormat: '~g', label } as const;
  const cell = Math.max(4, Math.floor(size / Math.max(rows, cols)));
  const panelWidth = cols * cell, gap = 30, margin = 10, axis = 28;
  const n = list.length;
  // band geometry: step = panelWidth + gap, bandwidth = panelWidth, no outer padding → square cells
  const chart = Plot.plot({
    document: doc,
    width: 2 * margin + n * panelWidth + (n - 1) * gap,
    height: rows * cell + margin + axis,
    marginLeft: margin,
    marginRight: margin,
    marginTop: margin,
    marginBottom: axis,
    padding: 0,
    fx: { label: null, domain: list.map((p) => p.label), paddingInner: gap / (panelWidth + gap), paddingOuter: 0 },
    x: { label: null, axis: null },
    y: { label: null, axis: null },
    color,
    marks: [
      Plot.cell(cells, { fx: 'panel', x: 'col', y: 'row', fill: 'value', inset: 0 }),
      Plot.tip(cells, Plot.pointer({ fx: 'panel', x: 'col', y: 'row', title: (c) => `token ${c.token} (row ${c.row}, col ${c.col})\n${c.value.toFixed(2)} ${unit}` })),
    ],
  }) as SVGElement;
  const keyOptions = { color, width: 320, document: doc }; // `document` is read at run time, not in Plot's types
  const key = Plot.legend(keyOptions as Plot.LegendScales) as SVGElement;
  return composeSvg(doc, [key, chart], { columns: 1, title });
}

/** The smallest {1, 2, 4, 8}·10^k at or above v (1 for 0), so the 8 colour bins get round edges. */
function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  return (([1, 2, 4, 8, 10].find((f) => f * e >= v * (1 - 1e-12)) ?? 10) * e);
}

/**
 * Variance of the Laplacian against logdet, one panel per source, titled with Spearman's ρ.
 * Log y axis: an image with variance 0 (a constant image) is left out of the plot, not of ρ.
 */
export function blurScatter(doc: Document, points: readonly ImagePoint[], rho: Partial<Record<Source, Correlation>>, { width = 680 } = {}): SVGElement {
  const title = (s: Source) => {
    const c = rho[s];
    return c && Number.isFinite(c.rho) ? `${SOURCE_NAME[s]}: Spearman ρ = ${c.rho.toFixed(3)} (n = ${c.n})` : SOURCE_NAME[s];
  };
  return Plot.plot({
    document: doc,
    width,
    height: 360,
    marginTop: 30,
    marginBottom: 48,
    marginLeft: 56,
    x: { label: 'logdet (nats) →', grid: true },
    y: { type: 'log', label: '↑ variance of the Laplacian (sharper; log scale)', grid: true, tickFormat: '~s' },
    fx: { label: null, domain: SOURCES.filter((s) => points.some((p) => p.source === s)), tickFormat: title },
    color: OUTLIER_COLORS,
    marks: [
      ...outlierKey(),
      Plot.dot(points, { x: 'logdet', y: 'laplacianVar', fx: 'source', stroke: status, r: 3 }),
      Plot.dot(points, Plot.pointer({ x: 'logdet', y: 'laplacianVar', fx: 'source', fill: status, r: 5 })),
      Plot.tip(points, Plot.pointer({
        x: 'logdet', y: 'laplacianVar', fx: 'source',
        title: (p: ImagePoint) => `${p.source} ${p.index}${p.label >= 0 ? `, class ${p.label}` : ''}\nlogdet ${p.logdet.toFixed(1)} (M = ${p.z.toFixed(2)})\nLaplacian var ${p.laplacianVar.toFixed(0)}\nclick to show`,
      })),
    ],
  }) as SVGElement;
}

/** Row i of a uint8 batch [n, H, W, C] as a PNG data URL (gray, RGB, or the channel mean otherwise). */
export function imageDataUrl(pixels: Uint8Array, i: number, image: { height: number; width: number; channels: number }): string {
  const { height: H, width: W, channels: C } = image;
  const src = pixels.subarray(i * H * W * C, (i + 1) * H * W * C);
  let data = src, channels = C;
  if (C !== 1 && C !== 3) {
    data = new Uint8Array(H * W);
    for (let p = 0; p < H * W; p++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += src[p * C + c];
      data[p] = Math.round(s / C);
    }
    channels = 1;
  }
  return `data:image/png;base64,${bytesToBase64(encodePng({ data: Uint8Array.from(data), height: H, width: W, channels }))}`;
}

export interface GalleryItem {
  source: Source;
  index: number;
  logdet: number;
  outlier: boolean;
  /** the image, e.g. a PNG data URL (imageDataUrl) */
  href: string;
}

/**
 * A grid of thumbnails in the given order, each captioned with its logdet; outliers framed in red.
 * One SVG (so it exports like the charts); each thumbnail is a <g data-source data-index>.
 */
export function imageGallery(
  doc: Document,
  items: readonly GalleryItem[],
  image: { height: number; width: number; channels: number },
  { limit = 64, scale = 2, width = 680, title = '' } = {},
): SVGElement {
  const NS = 'http://www.w3.org/2000/svg';
  const el = (name: string, attrs: Record<string, string | number>) => {
    const e = doc.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  };
  const shown = items.slice(0, limit);
  const w = image.width * scale, h = image.height * scale, gap = 8, caption = 14;
  const cols = Math.max(1, Math.floor((width + gap) / (w + gap)));
  const top = title ? 20 : 2;
  const rowH = h + caption + gap;
  const height = top + Math.ceil(shown.length / cols) * rowH + (items.length > limit ? 18 : 0);
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'logdet-gallery', 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  if (title) {
    const t = el('text', { x: 2, y: 13, 'font-size': 12, 'font-weight': 600, fill: 'currentColor' });
    t.textContent = title;
    svg.append(t);
  }
  shown.forEach((it, i) => {
    const g = el('g', {
      transform: `translate(${(i % cols) * (w + gap) + 2},${top + Math.floor(i / cols) * rowH})`,
      'data-source': it.source, 'data-index': it.index, cursor: 'pointer', tabindex: 0, role: 'button',
      'aria-label': `${SOURCE_NAME[it.source]} ${it.index}, logdet ${it.logdet.toFixed(1)}${it.outlier ? ', outlier' : ''}`,
    });
    const title = el('title', {});
    title.textContent = `${SOURCE_NAME[it.source]} ${it.index}: logdet ${it.logdet.toFixed(2)} nats${it.outlier ? ' (outlier)' : ''}`;
    g.append(
      title,
      el('image', { href: it.href, width: w, height: h, style: 'image-rendering: pixelated' }),
      el('rect', { x: -1, y: -1, width: w + 2, height: h + 2, fill: 'none', stroke: it.outlier ? '#d1495b' : '#ccc', 'stroke-width': it.outlier ? 2 : 1 }),
    );
    const text = el('text', { x: w / 2, y: h + caption - 2, 'text-anchor': 'middle', fill: it.outlier ? '#d1495b' : 'currentColor' });
    text.textContent = `${it.logdet.toFixed(1)}${it.outlier ? ' ●' : ''}`;
    g.append(text);
    svg.append(g);
  });
  if (items.length > limit) {
    const more = el('text', { x: 2, y: height - 5, fill: 'currentColor' });
    more.textContent = `… and ${items.length - limit} more (sorted: outliers first, then by logdet, largest first)`;
    svg.append(more);
  }
  return svg as SVGElement;
}
