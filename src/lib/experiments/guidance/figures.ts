// Figures of the guidance experiment (Algorithm 1): one strip of samples per setting (same seeds
// and labels in every row), and each score against the guidance weight w, one line per CFG method.
import * as Plot from '@observablehq/plot';
import { labelledStrips } from '../../plots/strips';
import type { Figure } from '../types';
import { rowName, type GuidanceResult, type GuidanceRow } from './result';

const COLOURS = { naive: '#d1495b', resampling: '#3a6ea5' } as const;

/** Rows the settings, columns the first samples (asked class on top); rows not computed yet say so. */
export function guidanceGrid(r: GuidanceResult, doc: Document, { scale }: { scale?: number } = {}): SVGSVGElement {
  const kept = Math.max(0, ...r.rows.map((q) => q?.kept ?? 0));
  return labelledStrips(doc, {
    title: 'Samples at each guidance setting, same seeds and labels in every row',
    footnote: 'same seed in every row; NaN/Inf samples are drawn black',
    columns: Array.from({ length: kept }, (_, c) => `y = ${c % r.classes}`),
    rows: r.plan.map((setting, i) => {
      const row: GuidanceRow | null = r.rows[i];
      return {
        label: rowName(setting),
        picture: row?.picture ?? null,
        missing: row ? 'no samples kept' : 'not computed yet',
      };
    }),
    image: r.image,
    left: 120,
    scale,
  });
}

export type GuidanceMetric = 'fid' | 'is' | 'accuracy';

/** One score against w for each method; the unguided row is the w = 0 point of both lines. */
export function guidanceCurve(
  r: GuidanceResult,
  metric: GuidanceMetric,
  doc: Document,
  { width = 420 } = {},
): SVGElement {
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
      ...(metric === 'accuracy'
        ? [
            Plot.ruleY([100 / r.classes], { stroke: 'currentColor', strokeOpacity: 0.4, strokeDasharray: '3,3' }),
            Plot.text([`chance (1/${r.classes})`], {
              x: 0,
              y: 100 / r.classes,
              dy: -7,
              textAnchor: 'start',
              fillOpacity: 0.6,
              fontSize: 10,
            }),
          ]
        : []),
      Plot.line(points, { x: 'w', y: 'value', stroke: 'method', z: 'method', marker: 'circle' }),
      ...methods.map((m, i) =>
        Plot.text([`● ${m} CFG`], {
          frameAnchor: 'top-right',
          dx: -6,
          dy: 6 + 14 * i,
          fill: COLOURS[m],
          fontSize: 11,
          textAnchor: 'end',
        }),
      ),
      Plot.tip(
        points,
        Plot.pointer({
          x: 'w',
          y: 'value',
          title: (q: { w: number; value: number; method: string }) =>
            `${q.method}, w = ${q.w}: ${q.value.toFixed(metric === 'fid' ? 1 : 2)}`,
        }),
      ),
    ],
  }) as SVGElement;
}

export function* guidanceFigures(r: GuidanceResult, doc: Document): Generator<Figure> {
  yield { name: 'samples', node: guidanceGrid(r, doc) };
  if (r.rows.some((q) => q !== null))
    for (const metric of ['fid', 'is', 'accuracy'] as const)
      yield { name: metric, node: guidanceCurve(r, metric, doc) };
}
