// How much of an image's structure and colour survives a perturbation: SSIM, Sobel edge
// correlation and foreground/background colour error, on uint8 images [H, W, C] (browser-safe).
import { pearson } from './rank';

/** A uint8 image, row-major [height, width, channels]. */
export interface Pixels {
  data: ArrayLike<number>;
  height: number;
  width: number;
  /** 1 (gray) or 3 (RGB) */
  channels: number;
}

/** ITU-R BT.601 luma weights, the Y of Y'CbCr (what SSIM is usually computed on for RGB). */
const LUMA = [0.299, 0.587, 0.114];

/** Grayscale [H·W] on the [0, 255] scale: the image itself, or the BT.601 luma of RGB. */
export function luminance({ data, height, width, channels }: Pixels): Float64Array {
  if (channels !== 1 && channels !== 3) throw new Error(`invalid channels: ${channels} (1 or 3)`);
  const out = new Float64Array(height * width);
  for (let i = 0; i < out.length; i++)
    out[i] = channels === 1 ? data[i] : LUMA[0] * data[3 * i] + LUMA[1] * data[3 * i + 1] + LUMA[2] * data[3 * i + 2];
  return out;
}

/** Normalised 1-D Gaussian taps, radius r. */
function gaussianTaps(sigma: number, r: number): Float64Array {
  const w = new Float64Array(2 * r + 1);
  for (let i = -r; i <= r; i++) w[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return w;
}

/**
 * Separable Gaussian local mean of `x` [H·W]. At the border the window is cut to the image and
 * its weights renormalised, so the map has the image's size and a constant image stays constant.
 */
function gaussianMean(x: Float64Array, H: number, W: number, taps: Float64Array): Float64Array {
  const r = (taps.length - 1) / 2;
  const rows = new Float64Array(H * W);
  for (let y = 0; y < H; y++)
    for (let c = 0; c < W; c++) {
      let s = 0,
        n = 0;
      for (let j = Math.max(0, c - r); j <= Math.min(W - 1, c + r); j++)
        ((s += taps[j - c + r] * x[y * W + j]), (n += taps[j - c + r]));
      rows[y * W + c] = s / n;
    }
  const out = new Float64Array(H * W);
  for (let y = 0; y < H; y++)
    for (let c = 0; c < W; c++) {
      let s = 0,
        n = 0;
      for (let i = Math.max(0, y - r); i <= Math.min(H - 1, y + r); i++)
        ((s += taps[i - y + r] * rows[i * W + c]), (n += taps[i - y + r]));
      out[y * W + c] = s / n;
    }
  return out;
}

export interface SsimOptions {
  /** Gaussian window σ in pixels; default 1.5 (Wang et al. 2004) */
  sigma?: number;
  /** window radius; default 5 (an 11×11 window) */
  radius?: number;
  /** dynamic range L; default 255 */
  range?: number;
}

/**
 * Mean SSIM of two grayscale maps [H·W] (Wang et al. 2004, Gaussian window):
 * SSIM = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)), C1 = (0.01L)², C2 = (0.03L)².
 */
export function ssimGray(
  x: Float64Array,
  y: Float64Array,
  H: number,
  W: number,
  { sigma = 1.5, radius = 5, range = 255 }: SsimOptions = {},
): number {
  if (x.length !== H * W || y.length !== H * W)
    throw new Error(`invalid size: ${x.length}, ${y.length} values for ${H}×${W}`);
  const taps = gaussianTaps(sigma, radius);
  const mean = (v: Float64Array) => gaussianMean(v, H, W, taps);
  const prod = (a: Float64Array, b: Float64Array) => a.map((v, i) => v * b[i]);
  const [mx, my, mxx, myy, mxy] = [mean(x), mean(y), mean(prod(x, x)), mean(prod(y, y)), mean(prod(x, y))];
  const C1 = (0.01 * range) ** 2,
    C2 = (0.03 * range) ** 2;
  let total = 0;
  for (let i = 0; i < H * W; i++) {
    const vx = Math.max(0, mxx[i] - mx[i] * mx[i]),
      vy = Math.max(0, myy[i] - my[i] * my[i]);
    const cxy = mxy[i] - mx[i] * my[i];
    total += ((2 * mx[i] * my[i] + C1) * (2 * cxy + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
  }
  return total / (H * W);
}

/** SSIM of two uint8 images on their luminance. */
export function ssim(a: Pixels, b: Pixels, options?: SsimOptions): number {
  return ssimGray(luminance(a), luminance(b), a.height, a.width, options);
}

/** Sobel gradient magnitude [H·W] of a grayscale map, borders replicated. */
export function sobelMagnitude(x: Float64Array, H: number, W: number): Float64Array {
  const at = (i: number, j: number) => x[Math.min(H - 1, Math.max(0, i)) * W + Math.min(W - 1, Math.max(0, j))];
  const out = new Float64Array(H * W);
  for (let i = 0; i < H; i++)
    for (let j = 0; j < W; j++) {
      const gx =
        at(i - 1, j + 1) + 2 * at(i, j + 1) + at(i + 1, j + 1) - at(i - 1, j - 1) - 2 * at(i, j - 1) - at(i + 1, j - 1);
      const gy =
        at(i + 1, j - 1) + 2 * at(i + 1, j) + at(i + 1, j + 1) - at(i - 1, j - 1) - 2 * at(i - 1, j) - at(i - 1, j + 1);
      out[i * W + j] = Math.hypot(gx, gy);
    }
  return out;
}

/**
 * Shape: correlation of the Sobel edge maps of the two images' luminance (1 = same contours);
 * 0 when either image has no edges at all (no structure to share).
 */
export function edgeCorrelation(clean: Pixels, other: Pixels): number {
  const { height: H, width: W } = clean;
  const r = pearson(sobelMagnitude(luminance(clean), H, W), sobelMagnitude(luminance(other), H, W));
  return Number.isNaN(r) ? 0 : r;
}

/** Otsu's threshold of a [0, 255] map: the cut maximising the between-class variance. */
export function otsuThreshold(gray: Float64Array): number {
  const hist = new Float64Array(256);
  for (const v of gray) hist[Math.min(255, Math.max(0, Math.round(v)))]++;
  const n = gray.length;
  let sumAll = 0;
  for (let t = 0; t < 256; t++) sumAll += t * hist[t];
  let w0 = 0,
    sum0 = 0,
    best = -1,
    cut = 127.5;
  for (let t = 0; t < 255; t++) {
    ((w0 += hist[t]), (sum0 += t * hist[t]));
    const w1 = n - w0;
    if (w0 === 0 || w1 === 0) continue;
    const d = sum0 / w0 - (sumAll - sum0) / w1;
    const between = w0 * w1 * d * d;
    if (between > best) ((best = between), (cut = t + 0.5));
  }
  return cut;
}

/** Foreground mask of a clean image: luminance above its Otsu threshold. */
export function foregroundMask(clean: Pixels): Uint8Array {
  const y = luminance(clean);
  const t = otsuThreshold(y);
  return Uint8Array.from(y, (v) => (v > t ? 1 : 0));
}

/** Mean RGB of the pixels where mask = m, on [0, 1]. */
function meanColour(img: Pixels, mask: Uint8Array, m: number): number[] {
  const s = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== m) continue;
    for (let c = 0; c < 3; c++) s[c] += img.data[3 * i + c] / 255;
    n++;
  }
  return s.map((v) => (n > 0 ? v / n : 0));
}

/**
 * Colour: the mean of the foreground and background colour errors, each the Euclidean distance
 * between the mean RGB (on [0, 1]) of `other` and of `clean` over the clean image's foreground
 * (resp. background) mask. 0 = the same colours; at most √3.
 */
export function colourError(clean: Pixels, other: Pixels, mask = foregroundMask(clean)): number {
  if (clean.channels !== 3) throw new Error(`invalid channels: ${clean.channels} (colour needs RGB)`);
  const dist = (m: number) => {
    const [a, b] = [meanColour(clean, mask, m), meanColour(other, mask, m)];
    return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  };
  return (dist(1) + dist(0)) / 2;
}
