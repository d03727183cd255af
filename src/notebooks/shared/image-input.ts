// Turning browser pixels (RGBA from a canvas) into a model's uint8 input [H, W, C].

/** Luminance (BT.601) of RGBA pixels, or their RGB, as uint8 [h·w·channels]; `invert` flips 0↔255. */
export function rgbaToModelPixels(rgba: ArrayLike<number>, channels: number, invert = false): Uint8Array {
  if (channels !== 1 && channels !== 3) throw new Error(`invalid channels: ${channels} (1 or 3)`);
  const n = rgba.length / 4;
  const out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const r = rgba[4 * i],
      g = rgba[4 * i + 1],
      b = rgba[4 * i + 2];
    if (channels === 1) {
      const y = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      out[i] = invert ? 255 - y : y;
    } else for (const [c, v] of [r, g, b].entries()) out[3 * i + c] = invert ? 255 - v : v;
  }
  return out;
}

/** Mean luminance of RGBA pixels in [0, 255]: above ~128 the picture is mostly light. */
export function meanLuminance(rgba: ArrayLike<number>): number {
  let sum = 0;
  const n = rgba.length / 4;
  for (let i = 0; i < n; i++) sum += 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
  return n > 0 ? sum / n : 0;
}

/** Model pixels [H, W, C] as RGBA for a canvas (grey for one channel). */
export function modelPixelsToRgba(pixels: ArrayLike<number>, channels: number): Uint8ClampedArray {
  const n = pixels.length / channels;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = pixels[channels === 1 ? i : 3 * i + c];
    out[4 * i + 3] = 255;
  }
  return out;
}

/** Draws `source` stretched to width × height and reads it back as RGBA (browser only). */
export function resample(source: CanvasImageSource, width: number, height: number): Uint8ClampedArray {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height).data;
}
