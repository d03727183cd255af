// The separation grid's pixels: where each reconstruction sits, and all of them tiled into one
// PNG. Encoded by the run (in the worker), so the page's figure only places one picture.
import { placeImage, pngImage, type PngImage } from '../../plots/pixels';
import type { SeparationResult } from './result';

/** What the grid's layout and its PNG are made of (the fields of a SeparationResult). */
type GridSource = Pick<
  SeparationResult,
  'height' | 'width' | 'channels' | 'alphas' | 'modes' | 'depths' | 'clean' | 'grid'
>;

/**
 * Where each image sits in the tiled grid, in image pixels: one row per depth, 1 px apart; the
 * clean image first, then each mode's α levels, 8 px between the groups.
 */
export function gridLayout(r: Pick<GridSource, 'height' | 'width' | 'alphas' | 'modes' | 'depths'>) {
  const { height: H, width: W } = r;
  const L = r.alphas.length,
    gap = 1,
    group = 8;
  const colX = (mi: number, ai: number) => W + group + mi * (L * (W + gap) - gap + group) + ai * (W + gap);
  const rowY = (row: number) => row * (H + gap);
  return { colX, rowY, width: colX(r.modes.length - 1, L - 1) + W, height: rowY(r.depths.length) - gap };
}

/**
 * The images of the grid tiled into one PNG (one encode instead of one per cell; gaps
 * transparent), as gridLayout places them. Run in the worker: the page only places the picture.
 */
export function gridPng(r: GridSource): PngImage {
  const { height: H, width: W, channels: C, alphas, modes } = r;
  const L = alphas.length,
    M = modes.length,
    px = H * W * C;
  const { colX, rowY, width, height } = gridLayout(r);
  const out = C === 1 ? 2 : 4; // gray+alpha or RGBA
  const data = new Uint8Array(width * height * out);
  const put = (src: Uint8Array, x0: number, y0: number) => placeImage(data, width, src, H, W, C, x0, y0);
  for (let row = 0; row < r.depths.length; row++) {
    put(r.clean, 0, rowY(row));
    for (let mi = 0; mi < M; mi++)
      for (let ai = 0; ai < L; ai++) {
        const off = ((row * M + mi) * L + ai) * px;
        put(r.grid.subarray(off, off + px), colX(mi, ai), rowY(row));
      }
  }
  return pngImage({ data, height, width, channels: out });
}
