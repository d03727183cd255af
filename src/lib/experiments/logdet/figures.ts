// Figures of the logdet experiment (suppl. Fig. 9), built with Observable Plot in a given document
// (the browser's or jsdom's). Points keep their source and index so a page can show the image
// behind a click: the scatter's `node.value` is the pointed ImagePoint (Plot's pointer, with an
// "input" event), and gallery thumbnails carry data-source / data-index.
import * as Plot from '@observablehq/plot';
import type { Correlation } from '../../metrics/rank';
import type { OutlierRule } from '../../metrics/robust';
import { imageGallery } from '../../plots/gallery';
import { tokenHeatmap } from '../../plots/heatmap';
import { composeSvg } from '../../plots/svg';
import type { Figure } from '../types';
import type { LogdetParams } from './params';
import {
  galleryOrder,
  heatmapValues,
  type ImagePoint,
  type LogdetResult,
  type Source,
  type SourceResult,
} from './result';

const SOURCE_NAME: Record<Source, string> = { test: 'test images', sample: 'samples' };
const SOURCES: Source[] = ['test', 'sample'];
const OUTLIER_COLORS = { domain: ['typical', 'outlier'], range: ['#8a9bb0', '#d1495b'] };

function status(p: { outlier: boolean }): string {
  return p.outlier ? 'outlier' : 'typical';
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
export function logdetHistogram(
  doc: Document,
  points: readonly ImagePoint[],
  rules: readonly (OutlierRule & { source: Source })[],
  { width = 640 } = {},
): SVGElement {
  const cuts = rules.flatMap((r) =>
    r.scale > 0
      ? [
          { source: r.source, x: r.lower },
          { source: r.source, x: r.upper },
        ]
      : [],
  );
  return Plot.plot({
    document: doc,
    width,
    height: 90 + 110 * new Set(points.map((p) => p.source)).size,
    marginBottom: 48,
    marginRight: 90,
    x: { label: 'logdet = log|det ∂Z/∂X| (nats) →', grid: true },
    y: { label: 'share of images', grid: true },
    fy: {
      label: null,
      domain: SOURCES.filter((s) => points.some((p) => p.source === s)),
      tickFormat: (s: Source) => SOURCE_NAME[s],
    },
    color: OUTLIER_COLORS,
    marks: [
      ...outlierKey('dashed: outlier cut-offs; grey line: median'),
      Plot.rectY(
        points,
        Plot.binX<Plot.RectYOptions>(
          { y: 'proportion-facet' },
          { x: 'logdet', fy: 'source', fill: status, thresholds: 30 },
        ),
      ),
      Plot.ruleX(cuts, { x: 'x', fy: 'source', stroke: '#d1495b', strokeDasharray: '4,3' }),
      Plot.ruleX(rules, { x: 'median', fy: 'source', stroke: 'currentColor', strokeOpacity: 0.6 }),
      Plot.ruleY([0]),
    ],
  }) as SVGElement;
}

/** One small histogram per flow block (each with its own x range), test and samples side by side. */
export function perBlockHistogram(
  doc: Document,
  points: readonly ImagePoint[],
  { width = 220, columns = 3 } = {},
): SVGElement {
  const blocks = points[0]?.perBlock.length ?? 0;
  const sources = SOURCES.filter((s) => points.some((p) => p.source === s));
  const parts = Array.from(
    { length: blocks },
    (_, k) =>
      Plot.plot({
        document: doc,
        width,
        height: 80 + 65 * sources.length,
        marginRight: 56,
        x: { label: `logdet of block ${k} (nats) →`, ticks: 4 },
        y: { label: 'share', grid: true, ticks: 3 },
        fy: { label: null, domain: sources, tickFormat: (s: Source) => (s === 'test' ? 'test' : 'samples') },
        marks: [
          Plot.rectY(
            points.map((p) => ({ source: p.source, logdet: p.perBlock[k] })),
            Plot.binX<Plot.RectYOptions>(
              { y: 'proportion-facet' },
              { x: 'logdet', fy: 'source', fill: '#8a9bb0', thresholds: 15 },
            ),
          ),
          Plot.ruleY([0]),
        ],
      }) as SVGElement,
  );
  return composeSvg(doc, parts, { columns, gap: 10, title: 'logdet per flow block (each with its own x range)' });
}

/**
 * Variance of the Laplacian against logdet, one panel per source, titled with Spearman's ρ.
 * Log y axis: an image with variance 0 (a constant image) is left out of the plot, not of ρ.
 */
export function blurScatter(
  doc: Document,
  points: readonly ImagePoint[],
  rho: Partial<Record<Source, Correlation>>,
  { width = 680 } = {},
): SVGElement {
  const title = (s: Source) => {
    const c = rho[s];
    return c && Number.isFinite(c.rho)
      ? `${SOURCE_NAME[s]}: Spearman ρ = ${c.rho.toFixed(3)} (n = ${c.n})`
      : SOURCE_NAME[s];
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
      Plot.tip(
        points,
        Plot.pointer({
          x: 'logdet',
          y: 'laplacianVar',
          fx: 'source',
          title: (p: ImagePoint) =>
            `${p.source} ${p.index}${p.label >= 0 ? `, class ${p.label}` : ''}\nlogdet ${p.logdet.toFixed(1)} (M = ${p.z.toFixed(2)})\nLaplacian var ${p.laplacianVar.toFixed(0)}\nclick to show`,
        }),
      ),
    ],
  }) as SVGElement;
}

/** The figures one by one: histograms, per-token maps, the blur scatter, the two galleries. */
export function* logdetFigures(r: LogdetResult, p: LogdetParams, doc: Document): Generator<Figure> {
  const points = [...r.test.points, ...r.samples.points];
  const rules = [r.test, r.samples].flatMap((s) => (s.rule ? [{ source: s.source, ...s.rule }] : []));
  const panels = [
    ...(['test', 'sample'] as const).flatMap((source) =>
      (source === 'test' ? r.test : r.samples).points.length === 0
        ? []
        : [
            {
              label: `${source === 'test' ? 'test' : 'samples'} mean, total`,
              values: heatmapValues(r, { source, image: 'mean', block: 'total' }),
            },
          ],
    ),
  ];
  const first = galleryOrder(r.samples.points)[0];
  if (first)
    panels.push({
      label: `sample ${first.index} (first in the gallery), total`,
      values: heatmapValues(r, { source: 'sample', image: r.samples.points.indexOf(first), block: 'total' }),
    });
  const gallery = (s: SourceResult) => {
    const what = s.source === 'test' ? 'Test images' : 'Samples';
    const left = s.nonFinite.length > 0 ? `; ${s.nonFinite.length} with NaN/Inf left out` : '';
    const title = `${what} by logdet (nats), outliers (|M| > ${p.threshold}, red) first${left}`;
    const items = galleryOrder(s.points).map((q) => ({
      source: q.source,
      index: q.index,
      value: q.logdet,
      outlier: q.outlier,
      href: s.thumbnails[q.index],
      label: `${SOURCE_NAME[q.source]} ${q.index}: logdet ${q.logdet.toFixed(2)} nats${q.outlier ? ' (outlier)' : ''}`,
    }));
    return imageGallery(doc, items, r.image, { title, order: 'sorted: outliers first, then by logdet, largest first' });
  };
  yield { name: 'logdet-histogram', node: logdetHistogram(doc, points, rules) };
  yield { name: 'logdet-per-block', node: perBlockHistogram(doc, points) };
  yield {
    name: 'token-heatmap',
    node: tokenHeatmap(doc, r.grid, panels, {
      title: `Per-token logdet on the ${r.grid.rows}×${r.grid.cols} patch grid, all blocks; red: the flow stretches volume there`,
    }),
  };
  yield { name: 'blur-scatter', node: blurScatter(doc, points, { test: r.test.spearman, sample: r.samples.spearman }) };
  yield { name: 'gallery-samples', node: gallery(r.samples) };
  yield { name: 'gallery-test', node: gallery(r.test) };
}
