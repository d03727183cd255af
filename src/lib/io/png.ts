// uint8 images to PNG bytes (fast-png), and a tiling of n images into one grid. Browser-safe.
import { encode } from 'fast-png';

/** An 8-bit image, row-major `[height, width, channels]`. */
export interface Image {
  data: Uint8Array;
  height: number;
  width: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
  channels: number;
}

export class PngError extends Error {
  override name = 'PngError';
}

function checkDims(what: string, dims: Record<string, number>, min: number): void {
  for (const [k, v] of Object.entries(dims))
    if (!Number.isInteger(v) || v < min) throw new PngError(`${what}: invalid ${k} ${v}`);
}

export function encodePng({ data, height, width, channels }: Image): Uint8Array {
  checkDims('encodePng', { height, width }, 1);
  if (![1, 2, 3, 4].includes(channels)) throw new PngError(`encodePng: invalid channels ${channels} (1–4)`);
  if (data.length !== height * width * channels)
    throw new PngError(`encodePng: ${data.length} bytes do not fill ${height}×${width}×${channels}`);
  return encode({ width, height, data, channels, depth: 8 });
}

/**
 * Tiles `n` images `[n, H, W, C]` row by row into `cols` columns, with `pad` pixels of `padValue`
 * around and between them. The last row is left blank past the n-th image.
 */
export function imageGrid(
  images: Uint8Array,
  n: number,
  H: number,
  W: number,
  C: number,
  cols: number,
  pad = 2,
  padValue = 0,
): Image {
  checkDims('imageGrid', { n, H, W, C, cols }, 1);
  checkDims('imageGrid', { pad }, 0);
  if (images.length !== n * H * W * C)
    throw new PngError(`imageGrid: ${images.length} bytes do not fill ${n}×${H}×${W}×${C}`);
  const c = Math.min(cols, n),
    rows = Math.ceil(n / c);
  const height = rows * (H + pad) + pad,
    width = c * (W + pad) + pad;
  const data = new Uint8Array(height * width * C).fill(padValue);
  for (let i = 0; i < n; i++) {
    const top = pad + Math.floor(i / c) * (H + pad),
      left = pad + (i % c) * (W + pad);
    for (let y = 0; y < H; y++) {
      const src = (i * H + y) * W * C;
      data.set(images.subarray(src, src + W * C), ((top + y) * width + left) * C);
    }
  }
  return { data, height, width, channels: C };
}
