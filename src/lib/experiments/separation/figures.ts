// Figures of the separation experiment (suppl. Fig. 8): the grid (depth × α, Partial beside Full)
// as an SVG placing one PNG (encoded by the run, grid.ts), and the structure-vs-α curves with
// Observable Plot.
import * as Plot from '@observablehq/plot';
import type { Figure } from '../types';
import { viridisSeries } from '../../plots/colours';
import { composeSvg, el, pixelImage, svgRoot, type LegendItem } from '../../plots/svg';
import { gridLayout } from './grid';
import type { CurvePoint, Mode, SeparationResult } from './result';

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';
/** Z^k with a Unicode superscript: Z¹², etc. */
export const latentName = (k: number): string => `Z${String(k).replace(/\d/g, (c) => SUPERSCRIPT[+c])}`;

export const modeTitle = (mode: Mode, r: Pick<SeparationResult, 'dims'>): string =>
  mode === 'partial'
    ? `Partial: last d_R = ${r.dims.redundant} of ${r.dims.tokenDim} channels`
    : `Full: all ${r.dims.tokenDim} channels`;

/** Layout of the grid figure. */
export interface GridOptions {
  /** display pixels per image pixel; default: images about 64 px wide */
  scale?: number;
}

/**
 * Rows: depth k (the latent Z^k); columns: α, Partial beside Full, with the clean image first.
 * One PNG (encoded by the run) holds every image; each cell has a transparent hover target
 * naming it.
 */
export function gridFigure(r: SeparationResult, doc: Document, { scale }: GridOptions = {}): SVGSVGElement {
  const { height: H, width: W, alphas, modes, depths } = r;
  const s = scale ?? Math.max(1, Math.round(64 / W));
  const layout = gridLayout(r);
  const left = 80,
    top = 40;
  const width = left + layout.width * s + 4,
    height = top + layout.height * s + 18;
  const X = (x: number) => left + x * s,
    Y = (y: number) => top + y * s;

  const svg = svgRoot(doc, width, height, { class: 'separation-grid', role: 'img' });
  svg.append(
    el(doc, 'title', {}, `Latents after each AF block interpolated with noise (${r.formula}) and inverted to pixels`),
  );
  svg.append(pixelImage(doc, r.gridImage.href, left, top, r.gridImage.width * s, r.gridImage.height * s));
  const target = (x: number, y: number, label: string) => {
    const rect = el(doc, 'rect', {
      x: X(x),
      y: Y(y),
      width: W * s,
      height: H * s,
      fill: 'transparent',
      class: 'separation-cell',
    });
    rect.append(el(doc, 'title', {}, label));
    svg.append(rect);
  };
  svg.append(el(doc, 'text', { x: X(W / 2), y: top - 6, 'text-anchor': 'middle' }, 'clean'));
  for (const [mi, mode] of modes.entries()) {
    const x0 = X(layout.colX(mi, 0)),
      x1 = X(layout.colX(mi, alphas.length - 1) + W);
    svg.append(
      el(doc, 'text', { x: (x0 + x1) / 2, y: 13, 'text-anchor': 'middle', 'font-weight': 600 }, modeTitle(mode, r)),
    );
    svg.append(el(doc, 'line', { x1: x0, x2: x1, y1: 18, y2: 18, stroke: 'currentColor', 'stroke-opacity': 0.3 }));
    for (const [ai, a] of alphas.entries())
      svg.append(
        el(
          doc,
          'text',
          { x: X(layout.colX(mi, ai) + W / 2), y: top - 6, 'text-anchor': 'middle' },
          `α = ${+a.toFixed(3)}`,
        ),
      );
  }
  for (const [row, k] of depths.entries()) {
    const y = layout.rowY(row);
    svg.append(
      el(doc, 'text', { x: left - 8, y: Y(y + H / 2) + 4, 'text-anchor': 'end' }, `${latentName(k)} (k = ${k})`),
    );
    target(0, y, `clean image`);
    for (const [mi, mode] of modes.entries())
      for (const [ai, a] of alphas.entries()) target(layout.colX(mi, ai), y, `${mode}, ${latentName(k)}, α = ${a}`);
  }
  svg.append(
    el(doc, 'text', { x: left, y: height - 4, 'fill-opacity': 0.7 }, `${r.formula}; then blocks k−1 … 0 inverted`),
  );
  return svg;
}

type Metric = 'ssim' | 'edge' | 'colour';
const METRIC_LABEL: Record<Metric, string> = {
  ssim: '↑ SSIM vs clean',
  edge: '↑ edge correlation (shape)',
  colour: '↓ colour error (RGB distance)',
};

/** One line per depth (colour = depth), faceted Partial | Full, ±1 sd band over the samples. */
export function curveFigure(r: SeparationResult, metric: Metric, doc: Document, depths = r.depths): SVGSVGElement {
  const rows = r.curves.filter((c) => depths.includes(c.depth) && c[metric] !== null);
  const sd = (c: CurvePoint) => (metric === 'ssim' ? c.ssimSd : metric === 'edge' ? c.edgeSd : c.colourSd!);
  const band = rows.map((c) => ({ ...c, lo: c[metric]! - sd(c), hi: c[metric]! + sd(c) }));
  const colours = viridisSeries(depths.length);
  const chart = Plot.plot({
    document: doc,
    width: 680,
    height: 280,
    marginRight: 20,
    grid: true,
    x: { label: 'noise level α →', domain: [0, 1] },
    y: { label: METRIC_LABEL[metric], ...(metric === 'colour' ? { zero: true } : {}) },
    fx: { label: null, domain: r.modes, tickFormat: (m: Mode) => modeTitle(m, r) },
    color: { type: 'ordinal', domain: depths, range: colours },
    marks: [
      ...(metric === 'colour' ? [Plot.ruleY([0])] : []),
      Plot.areaY(band, { x: 'alpha', y1: 'lo', y2: 'hi', fx: 'mode', fill: 'depth', z: 'depth', fillOpacity: 0.08 }),
      Plot.lineY(rows, { x: 'alpha', y: metric, fx: 'mode', stroke: 'depth', z: 'depth', strokeWidth: 1.8 }),
      Plot.dot(rows, {
        x: 'alpha',
        y: metric,
        fx: 'mode',
        fill: 'depth',
        r: 2.5,
        tip: true,
        title: (c: CurvePoint) => `${latentName(c.depth)}, ${c.mode}, α = ${c.alpha}: ${c[metric]!.toFixed(3)}`,
      }),
    ],
  }) as SVGSVGElement;
  return composeSvg(doc, [chart], {
    legend: depths.map((k, i) => ({ label: latentName(k), colour: colours[i] })),
    legendTitle: 'depth k',
  });
}

const MODE_STYLE: Record<Mode, LegendItem> = {
  partial: { label: 'Partial', colour: '#1b7837', dash: 'none' },
  full: { label: 'Full', colour: '#b2182b', dash: '5,3' },
};

/** Areas under the curves vs depth, one small chart per metric: Partial (solid) against Full (dashed). */
export function summaryFigure(r: SeparationResult, doc: Document): SVGSVGElement {
  const metrics: Metric[] = r.channels === 3 ? ['ssim', 'edge', 'colour'] : ['ssim', 'edge'];
  const area = (m: Metric) => (s: SeparationResult['summary'][number]) =>
    m === 'ssim' ? s.ssimArea : m === 'edge' ? s.edgeArea : s.colourArea!;
  const charts = metrics.map(
    (m) =>
      Plot.plot({
        document: doc,
        width: 300,
        height: 220,
        marginLeft: 48,
        grid: true,
        x: { label: 'depth k →', ticks: r.depths, tickFormat: 'd' },
        y: { label: `${METRIC_LABEL[m]}, area over α` },
        marks: r.modes.map((mode) =>
          Plot.lineY(
            r.summary.filter((s) => s.mode === mode),
            {
              x: 'depth',
              y: area(m),
              stroke: MODE_STYLE[mode].colour,
              strokeDasharray: MODE_STYLE[mode].dash,
              marker: 'circle',
            },
          ),
        ),
      }) as SVGSVGElement,
  );
  return composeSvg(doc, charts, { legend: r.modes.map((m) => MODE_STYLE[m]) });
}

/** The figures one by one: the grid, the curves per metric, the summary. */
export function* separationFigures(r: SeparationResult, doc: Document): Generator<Figure> {
  yield { name: 'grid', node: gridFigure(r, doc) };
  yield { name: 'ssim', node: curveFigure(r, 'ssim', doc) };
  yield { name: 'edges', node: curveFigure(r, 'edge', doc) };
  if (r.channels === 3) yield { name: 'colour', node: curveFigure(r, 'colour', doc) };
  yield { name: 'summary', node: summaryFigure(r, doc) };
}
