// Figures of the likelihood experiment (suppl. Table 6), built with Observable Plot in a given
// document (the browser's or jsdom's): the BPD distribution against the histogram baselines, the
// mean BPD split into its terms, where on the patch grid the bits go, and BPD per class.
import * as Plot from '@observablehq/plot';
import { tokenHeatmap } from '../../plots/heatmap';
import type { Figure } from '../types';
import { SCALE_BITS, type LikelihoodResult } from './result';

const BAR = '#8a9bb0';

/** Per-image BPD, with the mean and the two independent-pixel baselines as labelled rules. */
export function bpdHistogram(doc: Document, r: LikelihoodResult, { width = 640 } = {}): SVGElement {
  const rules = [
    { x: r.summary.bpd, text: `mean ${r.summary.bpd.toFixed(3)}`, stroke: 'currentColor', dash: null },
    ...(r.baseline
      ? [
          {
            x: r.baseline.perPosition,
            text: `histogram per position ${r.baseline.perPosition.toFixed(3)}`,
            stroke: '#d1495b',
            dash: '4,3',
          },
          {
            x: r.baseline.shared,
            text: `one histogram ${r.baseline.shared.toFixed(3)}`,
            stroke: '#e09f3e',
            dash: '2,3',
          },
        ]
      : []),
  ];
  return Plot.plot({
    document: doc,
    width,
    height: 300,
    marginTop: 20 + 14 * rules.length,
    x: { label: 'bits per dimension (uniform dequantization) →', grid: true },
    y: { label: '↑ test images', grid: true },
    marks: [
      Plot.rectY(r.images, Plot.binX<Plot.RectYOptions>({ y: 'count' }, { x: 'bpd', fill: BAR, thresholds: 30 })),
      Plot.ruleY([0]),
      ...rules.map((q) =>
        Plot.ruleX([q.x], { stroke: q.stroke, strokeDasharray: q.dash ?? undefined, strokeWidth: 1.5 }),
      ),
      ...rules.map((q, i) =>
        Plot.text([q.text], {
          frameAnchor: 'top-left',
          dy: -14 * (rules.length - i),
          dx: 4,
          fill: q.stroke,
          fontSize: 11,
          textAnchor: 'start',
        }),
      ),
    ],
  }) as SVGElement;
}

/** The mean BPD as a sum of signed parts (bits/dim): the 8-bit scale, the prior's two groups, the flow. */
export function termsChart(doc: Document, r: LikelihoodResult, { width = 640 } = {}): SVGElement {
  const s = r.summary;
  const gaussian = r.prior === 'gaussian';
  const rows = [
    { term: 'log₂ 128 (8-bit scale)', value: SCALE_BITS },
    ...(gaussian ? [] : [{ term: 'prior: informative channels (AR GMMs)', value: s.priorInformative }]),
    { term: gaussian ? 'prior: standard Gaussian' : 'prior: redundant channels (shared GMM)', value: s.priorRedundant },
    { term: 'flow: −logdet', value: s.flow },
    { term: 'total: test BPD', value: s.bpd },
  ];
  return Plot.plot({
    document: doc,
    width,
    height: 50 + 34 * rows.length,
    marginLeft: 250,
    marginRight: 60,
    x: { label: 'mean bits per dimension →', grid: true },
    y: { label: null, domain: rows.map((q) => q.term) },
    marks: [
      Plot.barX(rows, {
        x: 'value',
        y: 'term',
        fill: (q) => (q.term.startsWith('total') ? '#3a6ea5' : q.value < 0 ? '#6aa56a' : BAR),
      }),
      Plot.text(
        rows.filter((q) => q.value >= 0),
        { x: 'value', y: 'term', text: (q) => q.value.toFixed(3), dx: 4, textAnchor: 'start', fontSize: 11 },
      ),
      Plot.text(
        rows.filter((q) => q.value < 0),
        { x: 'value', y: 'term', text: (q) => q.value.toFixed(3), dx: -4, textAnchor: 'end', fontSize: 11 },
      ),
      Plot.ruleX([0]),
    ],
  }) as SVGElement;
}

/** Mean bits/dim of each patch: the total, and its prior and flow parts (one shared diverging scale). */
export function bitsMap(doc: Document, r: LikelihoodResult, { size = 180 } = {}): SVGElement {
  return tokenHeatmap(
    doc,
    r.grid,
    [
      { label: 'total', values: r.perToken.total },
      { label: 'prior part', values: r.perToken.prior },
      { label: 'flow part (−logdet)', values: r.perToken.flow },
    ],
    {
      size,
      title: `Bits/dim per patch (${r.grid.rows}×${r.grid.cols}), mean of ${r.summary.n} test images: total = 7 + prior + flow`,
      label: 'bits per dimension',
      unit: 'bits/dim',
    },
  );
}

/** Mean BPD of each test class with its 95% interval. */
export function bpdByClass(doc: Document, r: LikelihoodResult, { width = 640 } = {}): SVGElement {
  const rows = r.byClass.map((c) => ({
    ...c,
    lo: c.mean - (Number.isFinite(c.ci95) ? c.ci95 : 0),
    hi: c.mean + (Number.isFinite(c.ci95) ? c.ci95 : 0),
    name: String(c.label),
  }));
  return Plot.plot({
    document: doc,
    width,
    height: 280,
    x: { label: 'test label', domain: rows.map((c) => c.name) },
    y: { label: '↑ mean bits per dimension (95% interval)', grid: true, zero: false },
    marks: [
      Plot.ruleX(rows, { x: 'name', y1: 'lo', y2: 'hi', stroke: BAR, strokeWidth: 2 }),
      Plot.dot(rows, { x: 'name', y: 'mean', fill: '#3a6ea5', r: 4 }),
      Plot.tip(
        rows,
        Plot.pointer({
          x: 'name',
          y: 'mean',
          title: (c) => `label ${c.label}: ${c.mean.toFixed(3)} bits/dim\n${c.n} images`,
        }),
      ),
    ],
  }) as SVGElement;
}

export function* likelihoodFigures(r: LikelihoodResult, doc: Document): Generator<Figure> {
  if (r.images.length === 0) return;
  yield { name: 'bpd-histogram', node: bpdHistogram(doc, r) };
  yield { name: 'bpd-terms', node: termsChart(doc, r) };
  yield { name: 'bits-map', node: bitsMap(doc, r) };
  yield { name: 'bpd-by-class', node: bpdByClass(doc, r) };
}
