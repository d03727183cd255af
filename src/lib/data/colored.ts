// Colored MNIST: MNIST with a seeded foreground and background colour per image (browser-safe).
//
// Recipe (also in docs/data.md). For image `index` of a split with seed `seed`
// (seed 1001 for train, 2002 for test by default):
//   rng  = new Rng((seed ^ index) >>> 0)                         (src/lib/util/random.ts)
//   fg   = HSV(h_f, s_f, v_f),  h_f ~ U[0,1),  s_f ~ U[0.75,1),  v_f ~ U[0.85,1)
//   bg   = HSV(h_b, s_b, v_b),  h_b = (h_f + 1/3 + U[0,1/3)) mod 1   (120°–240° from h_f),
//                              s_b ~ U[0.4,0.8),  v_b ~ U[0.15,0.45)  (dark: contrasting)
//   draws in that order: h_f, s_f, v_f, then the hue offset, s_b, v_b
//   m    = digit intensity / 255;  pixel = round(255·(bg·(1−m) + fg·m)) per channel
// Coarse colour classes (for the feature network's colour heads): floor(6·h) of each hue,
// i.e. 60° bins starting at red.
import { Rng } from '../util/random';
import type { ImageSet } from './idx';

export const coloredMnistSeeds = { train: 1001, test: 2002 } as const;
/** number of coarse hue bins of the foreground and of the background */
export const HUE_CLASSES = 6;

export interface ImageColors {
  /** RGB in [0, 1] */
  fg: [number, number, number];
  bg: [number, number, number];
  /** hues in [0, 1) */
  fgHue: number;
  bgHue: number;
  /** floor(HUE_CLASSES·hue) */
  fgClass: number;
  bgClass: number;
}

/** HSV (all in [0, 1]) to RGB in [0, 1]. */
export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const k = (n: number) => (n + h * 6) % 6;
  const f = (n: number) => v - v * s * Math.max(0, Math.min(k(n), 4 - k(n), 1));
  return [f(5), f(3), f(1)];
}

export function imageColors(index: number, seed: number): ImageColors {
  const rng = new Rng((seed ^ index) >>> 0);
  const fgHue = rng.uniform();
  const fg = hsvToRgb(fgHue, 0.75 + 0.25 * rng.uniform(), 0.85 + 0.15 * rng.uniform());
  const bgHue = (fgHue + 1 / 3 + rng.uniform() / 3) % 1;
  const bg = hsvToRgb(bgHue, 0.4 + 0.4 * rng.uniform(), 0.15 + 0.3 * rng.uniform());
  const cls = (h: number) => Math.min(HUE_CLASSES - 1, Math.floor(h * HUE_CLASSES));
  return { fg, bg, fgHue, bgHue, fgClass: cls(fgHue), bgClass: cls(bgHue) };
}

/**
 * Colours a grey set [n, h, w, 1] into [n, h, w, 3]. `firstIndex` is the split index of the
 * set's first image (for slices), so a slice colours exactly as the whole split does.
 */
export function colorize(set: ImageSet, seed: number, firstIndex = 0): ImageSet {
  if (set.channels !== 1) throw new Error(`colorize: expected 1 channel, got ${set.channels}`);
  const size = set.height * set.width;
  const out = new Uint8Array(set.n * size * 3);
  for (let i = 0; i < set.n; i++) {
    const { fg, bg } = imageColors(firstIndex + i, seed);
    for (let p = 0; p < size; p++) {
      const m = set.images[i * size + p] / 255;
      const o = (i * size + p) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(255 * (bg[c] * (1 - m) + fg[c] * m));
    }
  }
  return { n: set.n, height: set.height, width: set.width, channels: 3, images: out, labels: set.labels };
}

/** Foreground and background hue classes of images firstIndex … firstIndex+n−1, each [n]. */
export function colorClasses(n: number, seed: number, firstIndex = 0): { fg: Uint8Array; bg: Uint8Array } {
  const fg = new Uint8Array(n),
    bg = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = imageColors(firstIndex + i, seed);
    fg[i] = c.fgClass;
    bg[i] = c.bgClass;
  }
  return { fg, bg };
}
