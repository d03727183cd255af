// A cell's result as files: its data as JSON (with the run's context) or CSV (its main table),
// and one figure as SVG or PNG.
import { csvOf, figureSvg, jsonText, slug } from '../../lib/experiments/export';
import type { Experiment, Figure, Params } from '../../lib/experiments/types';
import type { Shown } from '../../lib/runtime/cell-runner';
import { download, figurePng } from './exports';
import type { Notebook } from './notebook.svelte';

/** What the exports need to know of a cell. */
interface ExportingCell {
  readonly id: string;
  readonly title: string;
  readonly seeded: boolean;
  readonly notebook: Notebook;
}

export function exportData<R, P extends Params>(
  cell: ExportingCell,
  e: Experiment<P, R>,
  r: Shown<R, P>,
  format: 'json' | 'csv',
): void {
  const data = e.toJSON(r.value, r.params);
  const base = `${cell.notebook.id}-${slug(cell.id)}`;
  if (format === 'csv') {
    const table = csvOf(data);
    if (table) download(`${base}${table.path ? `-${slug(table.path)}` : ''}.csv`, table.csv, 'text/csv');
    return;
  }
  const model = cell.notebook.session.model.loaded;
  const doc = {
    notebook: cell.notebook.id,
    cell: cell.id,
    experiment: e.id,
    title: cell.title,
    model: model ? { name: model.name, hash: model.hash } : null,
    seed: cell.seeded ? r.params.seed : null,
    backend: cell.notebook.backendName,
    params: r.params,
    data,
  };
  download(`${base}.json`, jsonText(doc, 1), 'application/json');
}

export async function exportFigure(cell: ExportingCell, figure: Figure, format: 'svg' | 'png'): Promise<void> {
  const name = `${cell.notebook.id}-${slug(cell.id)}-${slug(figure.name)}`;
  if (format === 'svg') download(`${name}.svg`, figureSvg(figure).svg, 'image/svg+xml');
  else download(`${name}.png`, await figurePng(figure));
}
