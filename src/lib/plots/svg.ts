// Plain SVG for figures: elements with attributes, and one way to compose a figure from charts
// (Observable Plot's or our own) with its heading, legend and footnote inside a single SVG, so an
// exported SVG or PNG keeps everything a reader needs (Plot's own titles and legends are HTML
// outside the chart's SVG, and would be lost).

export const SVG_NS = 'http://www.w3.org/2000/svg';
export const FONT = 'system-ui, sans-serif';

/** An SVG element with attributes and optional text. */
export function el<K extends keyof SVGElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs: Record<string, string | number> = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const node = doc.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A root <svg> of a given size, drawn at that size. */
export function svgRoot(
  doc: Document,
  width: number,
  height: number,
  attrs: Record<string, string | number> = {},
): SVGSVGElement {
  return el(doc, 'svg', {
    xmlns: SVG_NS,
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    'font-family': FONT,
    'font-size': 11,
    ...attrs,
  });
}

/** Words of `text` in lines of at most `chars` characters. */
export function wrapText(text: string, chars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export interface LegendItem {
  label: string;
  colour: string;
  /** stroke-dasharray of the swatch line; a filled square when absent */
  dash?: string;
}

export interface Composition {
  /** bold heading */
  title?: string;
  /** lines under the heading */
  subtitle?: readonly string[];
  /** a legend row above the parts, optionally led by a name */
  legend?: readonly LegendItem[];
  legendTitle?: string;
  /** parts per row (default: all in one row) */
  columns?: number;
  gap?: number;
  /** a footnote, wrapped to the figure's width */
  note?: string;
}

/** Width of `text` in 11 px system-ui, roughly: the legend needs it without layout (jsdom). */
const textWidth = (text: string) => 7 * text.length;

function legendRow(doc: Document, svg: SVGSVGElement, y: number, items: readonly LegendItem[], title?: string): void {
  let x = 4;
  if (title) {
    svg.append(el(doc, 'text', { x, y: y + 15, 'fill-opacity': 0.8 }, title));
    x += textWidth(title) + 8;
  }
  for (const item of items) {
    svg.append(
      item.dash === undefined
        ? el(doc, 'rect', { x, y: y + 5, width: 12, height: 12, fill: item.colour })
        : el(doc, 'line', {
            x1: x,
            x2: x + 22,
            y1: y + 11,
            y2: y + 11,
            stroke: item.colour,
            'stroke-width': 2,
            'stroke-dasharray': item.dash,
          }),
    );
    x += item.dash === undefined ? 16 : 26;
    svg.append(el(doc, 'text', { x, y: y + 15 }, item.label));
    x += textWidth(item.label) + 14;
  }
}

/**
 * One standalone SVG: heading, subtitle lines, legend row, then the parts (SVGs with width and
 * height attributes) row by row as nested <svg>s, then the footnote. Each part keeps its own size
 * (inline style: Plot's stylesheet would stretch a nested <svg>).
 */
export function composeSvg(doc: Document, parts: readonly Element[], o: Composition = {}): SVGSVGElement {
  const { columns = parts.length, gap = 12 } = o;
  const sizes = parts.map((p) => {
    if (p.localName !== 'svg') throw new Error(`composeSvg: part ${p.localName} is not an SVG`);
    return [Number(p.getAttribute('width')), Number(p.getAttribute('height'))];
  });
  const rows: number[][] = [];
  for (let i = 0; i < parts.length; i += columns)
    rows.push(Array.from({ length: Math.min(columns, parts.length - i) }, (_, j) => i + j));
  const partsWidth = Math.max(0, ...rows.map((r) => r.reduce((a, i) => a + sizes[i][0], 0) + gap * (r.length - 1)));
  const notes = o.note ? wrapText(o.note, Math.max(40, Math.floor(partsWidth / 6.2))) : [];

  const svg = svgRoot(doc, 1, 1);
  let y = 0;
  if (o.title) {
    svg.append(el(doc, 'text', { x: 2, y: 16, 'font-size': 13, 'font-weight': 600, fill: 'currentColor' }, o.title));
    y = 22;
  }
  for (const line of o.subtitle ?? []) {
    svg.append(el(doc, 'text', { x: 2, y: y + 14, 'font-size': 12, 'fill-opacity': 0.75 }, line));
    y += 16;
  }
  if (o.legend?.length) {
    legendRow(doc, svg, y, o.legend, o.legendTitle);
    y += 22;
  }
  if (y > 0) y += 4;
  for (const row of rows) {
    let x = 0;
    for (const i of row) {
      const [w, h] = sizes[i];
      const part = parts[i];
      part.setAttribute('x', String(x));
      part.setAttribute('y', String(y));
      (part as SVGElement).style.cssText = `width: ${w}px; height: ${h}px; max-width: none; overflow: visible`;
      svg.append(part);
      x += w + gap;
    }
    y += Math.max(...row.map((i) => sizes[i][1])) + gap;
  }
  y -= rows.length ? gap : 0;
  for (const line of notes) {
    svg.append(el(doc, 'text', { x: 2, y: y + 16, 'font-size': 11, 'fill-opacity': 0.75 }, line));
    y += 15;
  }
  const width = Math.max(1, partsWidth),
    height = Math.max(1, y + (notes.length ? 6 : 0));
  for (const [k, v] of Object.entries({ width, height, viewBox: `0 0 ${width} ${height}` }))
    svg.setAttribute(k, String(v));
  return svg;
}

/** An image (e.g. a PNG data URL) placed at (x, y), scaled with square pixels. */
export function pixelImage(
  doc: Document,
  href: string,
  x: number,
  y: number,
  width: number,
  height: number,
  attrs: Record<string, string | number> = {},
): SVGImageElement {
  return el(doc, 'image', {
    href,
    x,
    y,
    width,
    height,
    preserveAspectRatio: 'none',
    style: 'image-rendering: pixelated',
    ...attrs,
  });
}
