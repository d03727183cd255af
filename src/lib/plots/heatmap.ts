// Values on the patch grid as heatmaps: one panel per map, side by side with one shared diverging
// colour scale and its key above them, all in one SVG (the logdet and likelihood notebooks).
import * as Plot from '@observablehq/plot';
import { composeSvg } from './svg';

export interface HeatmapPanel {
  label: string;
  /** one value per token, raster order: rows·cols values */
  values: ArrayLike<number>;
}

/** Maps on the rows × cols patch grid with one shared diverging colour scale (blue < 0 < red). */
export function tokenHeatmap(
  doc: Document,
  grid: { rows: number; cols: number },
  panels: HeatmapPanel | readonly HeatmapPanel[],
  { size = 200, title = '', label = 'logdet per token (nats)', unit = 'nats' } = {},
): SVGElement {
  const list: readonly HeatmapPanel[] = Array.isArray(panels) ? panels : [panels as HeatmapPanel];
  const { rows, cols } = grid;
  const cells = list.flatMap((panel) => {
    if (panel.values.length !== rows * cols)
      throw new Error(`invalid values: ${panel.values.length} for a ${rows}×${cols} grid`);
    return Array.from(panel.values, (value, t) => ({
      panel: panel.label,
      row: Math.floor(t / cols),
      col: t % cols,
      token: t,
      value,
    }));
  });
  let m = 0;
  for (const c of cells) m = Math.max(m, Math.abs(c.value));
  m = niceCeil(m);
  // quantized (8 bins, one edge at 0) so the key is drawn without a canvas (jsdom)
  const color = { type: 'quantize', n: 8, scheme: 'BuRd', domain: [-m, m], tickFormat: '~g', label } as const;
  const cell = Math.max(4, Math.floor(size / Math.max(rows, cols)));
  const panelWidth = cols * cell,
    gap = 30,
    margin = 10,
    axis = 28;
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
      Plot.tip(
        cells,
        Plot.pointer({
          fx: 'panel',
          x: 'col',
          y: 'row',
          title: (c) => `token ${c.token} (row ${c.row}, col ${c.col})\n${c.value.toFixed(2)} ${unit}`,
        }),
      ),
    ],
  }) as SVGElement;
  const keyOptions = { color, width: 320, document: doc }; // `document` is read at run time, not in Plot's types
  const key = Plot.legend(keyOptions as Plot.LegendScales) as SVGElement;
  return composeSvg(doc, [key, chart], { columns: 1, gap: 10, title });
}

/** The smallest {1, 2, 4, 8}·10^k at or above v (1 for 0), so the 8 colour bins get round edges. */
function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 4, 8, 10].find((f) => f * e >= v * (1 - 1e-12)) ?? 10) * e;
}
