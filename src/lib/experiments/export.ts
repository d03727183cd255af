// Figures and data as files: standalone SVG, JSON, CSV, and a whole notebook as one
// self-contained HTML report. String work on DOM nodes only: the same in the browser and in
// Node with jsdom (`farmer reproduce`).
import { el } from '../plots/svg';
import type { Figure } from './types';

const XHTML_NS = 'http://www.w3.org/1999/xhtml';

/** The figure's chart: the node itself if it is an SVG, else its largest SVG (not a legend swatch). */
export function mainSvg(node: Element): SVGSVGElement | null {
  if (node.localName === 'svg') return node as SVGSVGElement;
  let best: SVGSVGElement | null = null;
  let bestArea = -1;
  for (const svg of node.querySelectorAll('svg')) {
    const area = Number(svg.getAttribute('width') ?? 0) * Number(svg.getAttribute('height') ?? 0);
    if (area > bestArea) [best, bestArea] = [svg as SVGSVGElement, area];
  }
  return best;
}

/**
 * An SVG element as a standalone file. The serializer declares the namespaces the elements and
 * attributes use; declarations copied as plain attributes (Plot writes one) would repeat them.
 */
function svgFile(svg: Element): string {
  const copy = svg.cloneNode(true) as Element;
  for (const a of [...copy.attributes])
    if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) copy.removeAttributeNode(a);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serialize(copy)}\n`;
}

function serialize(node: Node): string {
  const view = (node.ownerDocument ?? (node as Document)).defaultView ?? globalThis;
  return new view.XMLSerializer().serializeToString(node);
}

/** The drawn size of an HTML figure without layout (jsdom): its image's size plus a caption line, else 800×600. */
function htmlFigureSize(node: Element): { width: number; height: number } {
  const img = node.querySelector('img');
  const w = Number(img?.getAttribute('width')),
    h = Number(img?.getAttribute('height'));
  return w > 0 && h > 0 ? { width: Math.max(w, 320), height: h + 80 } : { width: 800, height: 600 };
}

/**
 * The figure as an SVG file: a chart's own SVG (an HTML figure's largest, legends aside), or,
 * for HTML without a chart (an image grid, a table), the HTML inside a <foreignObject>.
 */
export function figureSvg(
  figure: Figure,
  size?: { width: number; height: number },
): { svg: string; width: number; height: number } {
  const chart = mainSvg(figure.node);
  if (chart) return { svg: svgFile(chart), ...svgSize(chart as SVGSVGElement) };
  const { width, height } = size ?? htmlFigureSize(figure.node);
  const doc = figure.node.ownerDocument;
  const svg = el(doc, 'svg', { width, height, viewBox: `0 0 ${width} ${height}` });
  const fo = el(doc, 'foreignObject', { x: 0, y: 0, width, height });
  const body = doc.createElementNS(XHTML_NS, 'div');
  body.setAttribute('style', 'font: 13px system-ui, sans-serif; color: #1d2430; background: #fff;');
  body.append(figure.node.cloneNode(true));
  fo.append(body);
  svg.append(fo);
  return { svg: svgFile(svg), width, height };
}

/** The size an SVG is drawn at: its width/height attributes, else its viewBox, else 640×400. */
export function svgSize(svg: Element): { width: number; height: number } {
  const w = Number(svg.getAttribute('width')),
    h = Number(svg.getAttribute('height'));
  if (w > 0 && h > 0) return { width: w, height: h };
  const box = (svg.getAttribute('viewBox') ?? '').split(/[\s,]+/).map(Number);
  if (box.length === 4 && box[2] > 0 && box[3] > 0) return { width: box[2], height: box[3] };
  return { width: 640, height: 400 };
}

/** JSON of exported data: typed arrays as arrays, non-finite numbers as null. */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v),
    indent,
  );
}

type Row = Record<string, unknown>;
const isRecord = (v: unknown): v is Row =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** Every array of records in `data` (depth ≤ 4) with its path, e.g. ["test.points", rows]. */
function tables(data: unknown, path = '', depth = 0, out: [string, Row[]][] = []): [string, Row[]][] {
  if (Array.isArray(data) && data.length > 0 && data.every(isRecord)) out.push([path, data]);
  else if (isRecord(data) && depth < 4)
    for (const [k, v] of Object.entries(data)) tables(v, path ? `${path}.${k}` : k, depth + 1, out);
  return out;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? jsonText(v) : typeof v === 'number' && !Number.isFinite(v) ? String(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV of the longest table (array of records) in the exported data, columns in order of first
 * appearance; `path` says where in the JSON it was ("" for the top level). Null when there is none.
 */
export function csvOf(data: unknown): { path: string; csv: string } | null {
  const found = tables(data);
  if (found.length === 0) return null;
  const [path, rows] = found.reduce((a, b) => (b[1].length > a[1].length ? b : a));
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const lines = [columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))];
  return { path, csv: lines.join('\n') + '\n' };
}

/** A file name piece: lowercase letters, digits and dashes. */
export function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'figure'
  );
}

export interface ReportCell {
  title: string;
  status: string;
  params: Record<string, unknown> | null;
  /** the cost line of the run shown */
  cost: string | null;
  elapsedMs: number | null;
  figures: Figure[];
}

export interface ReportInput {
  title: string;
  /** what it reproduces, e.g. "suppl. Fig. 8" */
  reproduces: string;
  model: { name: string; hash: string } | null;
  seed: number;
  backend: string;
  /** the notebook's URL */
  url: string;
  /** ISO time */
  created: string;
  cells: ReportCell[];
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The figure inline (SVG inside HTML needs no namespace declarations). */
function figureHtml(f: Figure): string {
  return `<figure class="fig" data-figure="${escapeHtml(f.name)}">${f.node.outerHTML}<figcaption>${escapeHtml(f.name)}</figcaption></figure>`;
}

/** One HTML file with every figure inlined as SVG, and the parameters, model, seed and backend. */
export function reportHtml(r: ReportInput): string {
  const facts: [string, string][] = [
    ['Model', r.model ? `${r.model.name} (SHA-256 ${r.model.hash.slice(0, 16)}…)` : 'none loaded'],
    ['Seed', String(r.seed)],
    ['Backend', r.backend],
    ['Created', r.created],
    ['Notebook URL', r.url],
  ];
  const cells = r.cells.map((c) => {
    const params = c.params
      ? `<table class="params"><tbody>${Object.entries(c.params)
          .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
          .join('')}</tbody></table>`
      : '';
    const figures = c.figures.length
      ? c.figures.map(figureHtml).join('\n')
      : `<p class="muted">No result (${escapeHtml(c.status)}).</p>`;
    const meta = [c.cost, c.elapsedMs !== null ? `computed in ${(c.elapsedMs / 1000).toFixed(1)} s` : null]
      .filter(Boolean)
      .map((s) => escapeHtml(s!))
      .join(' · ');
    return `<section class="cell"><h2>${escapeHtml(c.title)}</h2>${meta ? `<p class="muted">${meta}</p>` : ''}${params}\n${figures}</section>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(r.title)} — FARMER Workbench report</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; color: #1d2430; max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dt { color: #5d6778; } dd { margin: 0; word-break: break-all; }
.cell { border-top: 1px solid #dde2ea; margin-top: 1.5rem; padding-top: 1rem; }
.params { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0; }
.params th, .params td { text-align: left; padding: 0.1rem 0.8rem 0.1rem 0; }
.params th { color: #5d6778; font-weight: 500; }
.fig { margin: 1rem 0; } .fig figcaption { font-size: 0.8rem; color: #5d6778; }
.muted { color: #5d6778; }
</style>
</head>
<body>
<h1>${escapeHtml(r.title)}</h1>
<p class="muted">FARMER Workbench notebook report. Reproduces ${escapeHtml(r.reproduces)}.</p>
<dl>${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>
${cells.join('\n')}
</body>
</html>
`;
}
