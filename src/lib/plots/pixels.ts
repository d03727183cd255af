// uint8 arrays as base64 text and images as PNG data URLs (browser- and worker-safe, no
// TensorFlow.js), for experiment results that keep a few images and must stay JSON-serialisable.
import { encodePng, type Image } from '../io/png';

/** uint8 bytes → base64 */
export function bytesToBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** base64 → uint8 bytes */
export function base64ToBytes(b64: string): Uint8Array {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** An encoded picture a figure places as it is: a PNG data URL and its size in pixels. */
export interface PngImage {
  href: string;
  width: number;
  height: number;
}

/** An 8-bit image as a PNG data URL. Encode in the experiment's run (the worker), not in figures(). */
export function pngImage(image: Image): PngImage {
  return { href: `data:image/png;base64,${bytesToBase64(encodePng(image))}`, width: image.width, height: image.height };
}

/**
 * Copies an 8-bit image [H, W, C] (C 1 or 3) into an opaque region of a gray+alpha (C = 1) or RGBA
 * (C = 3) canvas `width` pixels wide, top-left at (x0, y0): how the grid figures tile their images.
 */
export function placeImage(
  canvas: Uint8Array,
  width: number,
  src: ArrayLike<number>,
  H: number,
  W: number,
  C: number,
  x0: number,
  y0: number,
): void {
  const out = C === 1 ? 2 : 4;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const o = ((y0 + y) * width + x0 + x) * out,
        i = (y * W + x) * C;
      for (let c = 0; c < C; c++) canvas[o + c] = src[i + c];
      canvas[o + out - 1] = 255;
    }
}

/**
 * `n` uint8 images [n, H, W, C] tiled `cols` to a row, `gap` px apart (and `gap` px of border when
 * `border`), gaps transparent, as one PNG: how the sample grids and strips place their images.
 */
export function tileImages(
  images: Uint8Array,
  n: number,
  H: number,
  W: number,
  C: number,
  { cols = n, gap = 1, border = false } = {},
): PngImage {
  const c = Math.max(1, Math.min(cols, n)),
    rows = Math.max(1, Math.ceil(n / c));
  const edge = border ? gap : 0;
  const width = c * (W + gap) - gap + 2 * edge,
    height = rows * (H + gap) - gap + 2 * edge;
  const canvas = new Uint8Array(width * height * (C === 1 ? 2 : 4));
  const size = H * W * C;
  for (let i = 0; i < n; i++)
    placeImage(
      canvas,
      width,
      images.subarray(i * size, (i + 1) * size),
      H,
      W,
      C,
      edge + (i % c) * (W + gap),
      edge + Math.floor(i / c) * (H + gap),
    );
  return pngImage({ data: canvas, height, width, channels: C === 1 ? 2 : 4 });
}
