// Exports of a cell's figures and data, and of a whole notebook as one self-contained HTML file.
// Everything but `download` and `svgToPng` is plain string work, usable in Node with jsdom.
import type { Figure } from '../../lib/experiments/types';

const SVG_NS = 'http://www.w3.org/2000/svg';

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

/** A standalone SVG file of the figure's chart (namespaces declared), or null if it has none. */
export function svgText(figure: Figure): string | null {
  const svg = mainSvg(figure.node);
  if (!svg) return null;
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute('xmlns', SVG_NS);
  if (copy.querySelector('[href], [xlink\\:href]')) copy.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink');
  const text = new (svg.ownerDocument.defaultView ?? globalThis).XMLSerializer().serializeToString(copy);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${text}\n`;
}

/** The size an SVG is drawn at: its width/height attributes, else its viewBox, else 640×400. */
export function svgSize(svg: SVGSVGElement): { width: number; height: number } {
  const w = Number(svg.getAttribute('width')), h = Number(svg.getAttribute('height'));
  if (w > 0 && h > 0) return { width: w, height: h };
  const box = (svg.getAttribute('viewBox') ?? '').split(/[\s,]+/).map(Number);
  if (box.length === 4 && box[2] > 0 && box[3] > 0) return { width: box[2], height: box[3] };
  return { width: 640, height: 400 };
}

/** Renders SVG text to a PNG at `scale` × its size, through an <img> and a canvas (browser only). */
export async function svgToPng(text: string, size: { width: number; height: number }, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(size.width * scale);
    canvas.height = Math.round(size.height * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the PNG could not be encoded'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** JSON of exported data: typed arrays as arrays, non-finite numbers as null. */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v), indent);
}

type Row = Record<string, unknown>;
const isRecord = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

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
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'figure';
}

/** Saves `content` as a file through a temporary link (browser only). */
export function download(filename: string, content: Blob | string, type = 'application/octet-stream'): void {
  const blob = typeof content === 'string' ? new Blob([content], { type }) : content;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
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
    const figures = c.figures.length ? c.figures.map(figureHtml).join('\n') : `<p class="muted">No result (${escapeHtml(c.status)}).</p>`;
    const meta = [c.cost, c.elapsedMs !== null ? `computed in ${(c.elapsedMs / 1000).toFixed(1)} s` : null].filter(Boolean).map((s) => escapeHtml(s!)).join(' · ');
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
