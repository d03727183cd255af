// A gallery of thumbnails in a given order, each captioned with a number and framed red when it is
// an outlier: one SVG (so it exports like the charts), each thumbnail a <g data-source
// data-index> that a page can pick by a click.
import { encodePng } from '../io/png';
import { bytesToBase64 } from './pixels';
import { el, svgRoot } from './svg';

/** Row i of a uint8 batch [n, H, W, C] as a PNG data URL (gray, RGB, or the channel mean otherwise). */
export function imageDataUrl(
  pixels: Uint8Array,
  i: number,
  image: { height: number; width: number; channels: number },
): string {
  const { height: H, width: W, channels: C } = image;
  const src = pixels.subarray(i * H * W * C, (i + 1) * H * W * C);
  let data = src,
    channels = C;
  if (C !== 1 && C !== 3) {
    data = new Uint8Array(H * W);
    for (let p = 0; p < H * W; p++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += src[p * C + c];
      data[p] = Math.round(s / C);
    }
    channels = 1;
  }
  return `data:image/png;base64,${bytesToBase64(encodePng({ data: Uint8Array.from(data), height: H, width: W, channels }))}`;
}

export interface GalleryItem {
  /** data-source of the thumbnail */
  source: string;
  /** data-index of the thumbnail */
  index: number;
  /** the caption's number */
  value: number;
  outlier: boolean;
  /** the image, e.g. a PNG data URL (imageDataUrl) */
  href: string;
  /** the thumbnail's name for people, e.g. "sample 3: logdet 12.1 nats" */
  label: string;
}

export interface GalleryOptions {
  /** thumbnails shown; the rest are counted under the grid */
  limit?: number;
  /** display pixels per image pixel */
  scale?: number;
  width?: number;
  title?: string;
  /** what the grid's order is, in the "… and N more" line */
  order?: string;
}

export function imageGallery(
  doc: Document,
  items: readonly GalleryItem[],
  image: { height: number; width: number },
  o: GalleryOptions = {},
): SVGSVGElement {
  const { limit = 64, scale = 2, width = 680, title = '', order = '' } = o;
  const shown = items.slice(0, limit);
  const w = image.width * scale,
    h = image.height * scale,
    gap = 8,
    caption = 14;
  const cols = Math.max(1, Math.floor((width + gap) / (w + gap)));
  const top = title ? 20 : 2;
  const rowH = h + caption + gap;
  const height = top + Math.ceil(shown.length / cols) * rowH + (items.length > limit ? 18 : 0);
  const svg = svgRoot(doc, width, height, { class: 'gallery' });
  if (title)
    svg.append(el(doc, 'text', { x: 2, y: 13, 'font-size': 12, 'font-weight': 600, fill: 'currentColor' }, title));
  shown.forEach((it, i) => {
    const g = el(doc, 'g', {
      transform: `translate(${(i % cols) * (w + gap) + 2},${top + Math.floor(i / cols) * rowH})`,
      'data-source': it.source,
      'data-index': it.index,
      cursor: 'pointer',
      tabindex: 0,
      role: 'button',
      'aria-label': it.label,
    });
    const colour = it.outlier ? '#d1495b' : 'currentColor';
    g.append(
      el(doc, 'title', {}, it.label),
      el(doc, 'image', { href: it.href, width: w, height: h, style: 'image-rendering: pixelated' }),
      el(doc, 'rect', {
        x: -1,
        y: -1,
        width: w + 2,
        height: h + 2,
        fill: 'none',
        stroke: it.outlier ? '#d1495b' : '#ccc',
        'stroke-width': it.outlier ? 2 : 1,
      }),
      el(
        doc,
        'text',
        { x: w / 2, y: h + caption - 2, 'text-anchor': 'middle', fill: colour },
        `${it.value.toFixed(1)}${it.outlier ? ' ●' : ''}`,
      ),
    );
    svg.append(g);
  });
  if (items.length > limit)
    svg.append(
      el(
        doc,
        'text',
        { x: 2, y: height - 5, fill: 'currentColor' },
        `… and ${items.length - limit} more${order ? ` (${order})` : ''}`,
      ),
    );
  return svg;
}
