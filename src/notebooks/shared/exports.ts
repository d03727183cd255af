// Browser-only exports: saving files, and PNGs rendered from a figure's SVG.
import { figureSvg } from '../../lib/experiments/export';
import type { Figure } from '../../lib/experiments/types';

/** Saves `content` as a file through a temporary link. */
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

/** The on-screen size of a mounted figure, for HTML figures (charts carry their own size). */
function shownSize(node: Element): { width: number; height: number } | undefined {
  const r = node.getBoundingClientRect();
  return r.width > 0 && r.height > 0 ? { width: Math.ceil(r.width), height: Math.ceil(r.height) } : undefined;
}

/** Draws SVG text into a canvas at `scale` × its size (white ground) and encodes a PNG. */
async function rasterize(svg: string, width: number, height: number, scale: number): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the PNG could not be encoded'))), 'image/png'),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * A PNG of the figure: its chart's SVG drawn at `scale` × size; an HTML figure that is one
 * PNG image (a sample grid) gives that image as it is.
 */
export async function figurePng(figure: Figure, scale = 2): Promise<Blob> {
  const node = figure.node;
  const img = node.querySelector('img');
  if (!node.querySelector('svg') && img?.getAttribute('src')?.startsWith('data:image/png'))
    return (await fetch(img.getAttribute('src')!)).blob();
  const { svg, width, height } = figureSvg(figure, shownSize(node));
  return rasterize(svg, width, height, scale);
}
