// Figures of the redundant-variance experiment (v2 Fig. 7): the grid (one row per s_R, the same
// samples in the columns) as an SVG placing one PNG, and structure against s_R with Observable Plot.
import * as Plot from '@observablehq/plot';
import { el, pixelImage, svgRoot } from '../../plots/svg';
import type { Figure } from '../types';
import type { RedundantResult } from './result';

/** Rows s_R, columns the samples (class label on top), the reference row marked. */
export function redundantGrid(r: RedundantResult, doc: Document, { scale }: { scale?: number } = {}): SVGSVGElement {
  const { height: H, width: W } = r.image;
  const s = scale ?? Math.max(1, Math.round(48 / W));
  const left = 70,
    top = 22;
  const width = left + r.grid.width * s + 4,
    height = top + r.grid.height * s + 20;
  const svg = svgRoot(doc, width, height, { role: 'img' });
  svg.append(el(doc, 'title', {}, 'The same samples with the redundant GMM’s standard deviations scaled by s_R'));
  svg.append(pixelImage(doc, r.grid.href, left, top, r.grid.width * s, r.grid.height * s));
  for (const [c, y] of r.labels.entries())
    svg.append(
      el(
        doc,
        'text',
        { x: left + (c * (W + 1) + W / 2) * s, y: top - 6, 'text-anchor': 'middle', 'fill-opacity': 0.8 },
        y >= 0 ? `y = ${y}` : 'null',
      ),
    );
  for (const [row, q] of r.rows.entries()) {
    const yMid = top + (row * (H + 1) + H / 2) * s + 4;
    const label = `s_R = ${q.scale}${q.scale === r.reference ? ' ◂' : ''}`;
    svg.append(
      el(
        doc,
        'text',
        { x: left - 8, y: yMid, 'text-anchor': 'end', 'font-weight': q.scale === r.reference ? 600 : 400 },
        label,
      ),
    );
  }
  svg.append(
    el(
      doc,
      'text',
      { x: left, y: height - 5, 'fill-opacity': 0.7 },
      'same seed in every row: only the redundant channels’ spread changes; ◂ the reference (s_R = 1)',
    ),
  );
  return svg;
}

/** SSIM and edge correlation (and colour error on RGB) of each row against the s_R = 1 row. */
export function structureCurves(r: RedundantResult, doc: Document, { width = 640 } = {}): SVGElement {
  const series: { key: 'ssim' | 'edge' | 'colour'; label: string; colour: string }[] = [
    { key: 'ssim', label: 'SSIM vs s_R = 1', colour: '#3a6ea5' },
    { key: 'edge', label: 'edge correlation vs s_R = 1', colour: '#d1495b' },
    ...(r.image.channels === 3
      ? [{ key: 'colour' as const, label: 'colour error vs s_R = 1 (÷ 255)', colour: '#6aa56a' }]
      : []),
  ];
  const points = series.flatMap(({ key, label }) =>
    r.rows.flatMap((q) => {
      const v = q[key];
      return v === null ? [] : [{ scale: q.scale, value: key === 'colour' ? v / 255 : v, series: label }];
    }),
  );
  return Plot.plot({
    document: doc,
    width,
    height: 300,
    marginRight: 20,
    x: { label: 'redundant scale s_R →', grid: true },
    y: {
      label: '↑ similarity to the s_R = 1 row',
      grid: true,
      domain: [Math.min(0, ...points.map((q) => q.value)), 1],
    },
    color: { legend: false, domain: series.map((q) => q.label), range: series.map((q) => q.colour) },
    marks: [
      Plot.ruleX([r.reference], { stroke: 'currentColor', strokeOpacity: 0.3, strokeDasharray: '3,3' }),
      Plot.line(points, { x: 'scale', y: 'value', stroke: 'series', marker: 'circle' }),
      // the key inside the frame (a legend outside it would be lost in SVG exports)
      ...series.map((q, i) =>
        Plot.text([`● ${q.label}`], {
          frameAnchor: 'bottom-left',
          dx: 6,
          dy: -8 - 14 * (series.length - 1 - i),
          fill: q.colour,
          fontSize: 11,
          textAnchor: 'start',
        }),
      ),
      Plot.tip(
        points,
        Plot.pointer({
          x: 'scale',
          y: 'value',
          title: (q: { scale: number; value: number; series: string }) =>
            `${q.series}\ns_R = ${q.scale}: ${q.value.toFixed(3)}`,
        }),
      ),
    ],
  }) as SVGElement;
}

export function* redundantFigures(r: RedundantResult, doc: Document): Generator<Figure> {
  yield { name: 'grid', node: redundantGrid(r, doc) };
  if (r.rows.length > 1) yield { name: 'structure', node: structureCurves(r, doc) };
}
