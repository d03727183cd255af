// Rows of image strips (one PNG per row, the same samples in the columns) with a label per row and
// per column: the sample grids of the guidance and distillation notebooks.
import type { PngImage } from './pixels';
import { el, pixelImage, svgRoot } from './svg';

export interface Strip {
  label: string;
  /** the row's images tiled 1 px apart with a 1 px border; null: `missing` is shown instead */
  picture: PngImage | null;
  missing?: string;
}

export interface StripsOptions {
  title: string;
  footnote: string;
  /** one label per column (per image in a strip) */
  columns: string[];
  rows: Strip[];
  image: { height: number; width: number };
  /** room for the row labels, px */
  left: number;
  scale?: number;
}

export function labelledStrips(doc: Document, o: StripsOptions): SVGSVGElement {
  const { height: H, width: W } = o.image;
  const s = o.scale ?? Math.max(2, Math.round(56 / W));
  const top = 22,
    rowH = (H + 2) * s + 6;
  const width = o.left + Math.max((o.columns.length * (W + 1) + 1) * s, 320) + 8,
    height = top + o.rows.length * rowH + 20;
  const svg = svgRoot(doc, width, height, { role: 'img' });
  svg.append(el(doc, 'title', {}, o.title));
  o.columns.forEach((label, c) =>
    svg.append(
      el(
        doc,
        'text',
        { x: o.left + s + (c * (W + 1) + W / 2) * s, y: top - 6, 'text-anchor': 'middle', 'fill-opacity': 0.8 },
        label,
      ),
    ),
  );
  for (const [i, row] of o.rows.entries()) {
    const y = top + i * rowH,
      mid = y + (H * s) / 2 + 4;
    svg.append(el(doc, 'text', { x: o.left - 8, y: mid, 'text-anchor': 'end' }, row.label));
    if (row.picture)
      svg.append(pixelImage(doc, row.picture.href, o.left, y, row.picture.width * s, row.picture.height * s));
    else svg.append(el(doc, 'text', { x: o.left, y: mid, 'fill-opacity': 0.6 }, row.missing ?? ''));
  }
  svg.append(el(doc, 'text', { x: o.left, y: height - 5, 'fill-opacity': 0.7 }, o.footnote));
  return svg;
}
