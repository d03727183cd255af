// Figures of the guidance notebook: one strip of samples per setting (same seeds and labels in
// every row), and each score against the guidance weight w, one line per CFG method.
import * as Plot from '@observablehq/plot';
import type { GuidanceResult, GuidanceRow } from '../experiments/guidance';
import { rowName } from '../experiments/guidance';
import { el, SVG_NS } from './svg';

const COLOURS = { naive: '#d1495b', resampling: '#3a6ea5' } as const;

/** Rows the settings, columns the first samples (asked class on top); rows not computed yet say so. */
export function guidanceGrid(r: GuidanceResult, doc: Document, { scale }: { scale?: number } = {}): SVGSVGElement {
  const { height: H, width: W } = r.image;
  const s = scale ?? Math.max(2, Math.round(56 / W));
  const kept = Math.max(0, ...r.rows.map((q) => q?.kept ?? 0));
  const left = 120, top = 22, rowH = (H + 2) * s + 6;
  const width = left + Math.max((kept * (W + 1) + 1) * s, 320) + 8, height = top + r.plan.length * rowH + 20;
  const svg = el(doc, 'svg', { xmlns: SVG_NS, width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append(el(doc, 'title', {}, 'Samples at each guidance setting, same seeds and labels in every row'));
  for (let c = 0; c < kept; c++)
    svg.append(el(doc, 'text', { x: left + 1 * s + (c * (W + 1) + W / 2) * s, y: top - 6, 'text-anchor': 'middle', 'fill-opacity': 0.8 }, `y = ${c % r.classes}`));
  for (const [i, setting] of r.plan.entries()) {
    const row: GuidanceRow | null = r.rows[i];
    const y = top + i * rowH;
    svg.append(el(doc, 'text', { x: left - 8, y: y + (H * s) / 2 + 4, 'text-anchor': 'end' }, rowName(setting)));
    if (row?.picture)
      svg.append(el(doc, 'image', { href: row.picture.href, x: left, y, width: row.picture.width * s, height: row.picture.height * s, preserveAspectRatio: 'none', style: 'image-rendering: pixelated' }));
    else svg.append(el(doc, 'text', { x: left, y: y + (H * s) / 2 + 4, 'fill-opacity': 0.6 }, row ? 'no samples kept' : 'not computed yet'));
  }
  svg.append(el(doc, 'text', { x: left, y: height - 5, 'fill-opacity': 0.7 }, 'same seed in every row; NaN/Inf samples are drawn black'));
  return svg;
}

export type GuidanceMetric = 'fid' | 'is' | 'accuracy';

/** One score against w for each method; the unguided row is the w = 0 point of both lines. */
export function guidanceCurve(r: GuidanceResult, metric: GuidanceMetric, doc: Document, { width = 420 } = {}): SVGElement {
  const done = r.rows.filter((q): q is GuidanceRow => q !== null);
  const base = done.find((q) => q.method === 'none');
  const methods = (['naive', 'resampling'] as const).filter((m) => r.plan.some((q) => q.method === m));
  const points = methods.flatMap((method) =>
    [...(base ? [base] : []), ...done.filter((q) => q.method === method)].flatMap((q) => {
      const v = q[metric];
      return v === null ? [] : [{ w: q.w, value: metric === 'accuracy' ? 100 * v : v, method }];
    }),
  );
  const label = metric === 'fid' ? `↓ ${r.fidLabel}` : metric === 'is' ? `↑ ${r.isLabel}` : '↑ class agreement (%)';
  return Plot.plot({
    document: doc,
    width,
    height: 260,
    marginLeft: 50,
    marginRight: 16,
    x: { label: 'guidance weight w →', grid: true },
    y: { label, grid: true, ...(metric === 'accuracy' ? { domain: [0, 100] } : { zero: metric === 'is' }) },
    color: { domain: [...methods], range: methods.map((m) => COLOURS[m]) },
    marks: [
      ...(metric === 'accuracy' ? [Plot.ruleY([100 / r.classes], { stroke: 'currentColor', strokeOpacity: 0.4, strokeDasharray: '3,3' }), Plot.text([`chance (1/${r.classes})`], { x: 0, y: 100 / r.classes, dy: -7, textAnchor: 'start', fillOpacity: 0.6, fontSize: 10 })] : []),
      Plot.line(points, { x: 'w', y: 'value', stroke: 'method', z: 'method', marker: 'circle' }),
      ...methods.map((m, i) => Plot.text([`● ${m} CFG`], { frameAnchor: 'top-right', dx: -6, dy: 6 + 14 * i, fill: COLOURS[m], fontSize: 11, textAnchor: 'end' })),
      Plot.tip(points, Plot.pointer({ x: 'w', y: 'value', title: (q: { w: number; value: number; method: string }) => `${q.method}, w = ${q.w}: ${q.value.toFixed(metric === 'fid' ? 1 : 2)}` })),
    ],
  }) as SVGElement;
}
