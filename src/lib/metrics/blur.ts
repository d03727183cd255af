// Sharpness as the variance of the Laplacian (Pech-Pacheco et al. 2000): convolve the luminance
// on the 0–255 scale with the 3×3 kernel [[0,1,0],[1,−4,1],[0,1,0]] over the interior pixels
// (no padding) and take the population variance of the responses. Blurred images score low.

/**
 * Luminance [H, W] on 0–255 of one image [H, W, C]: gray as is, RGB by Rec. 601
 * (0.299, 0.587, 0.114), any other channel count by the mean of the channels.
 */
export function luminance(pixels: ArrayLike<number>, H: number, W: number, C: number): Float64Array {
  if (pixels.length !== H * W * C) throw new Error(`luminance: ${pixels.length} values do not fill ${H}×${W}×${C}`);
  const out = new Float64Array(H * W);
  for (let i = 0; i < H * W; i++) {
    if (C === 3) out[i] = 0.299 * pixels[3 * i] + 0.587 * pixels[3 * i + 1] + 0.114 * pixels[3 * i + 2];
    else {
      let s = 0;
      for (let c = 0; c < C; c++) s += pixels[C * i + c];
      out[i] = s / C;
    }
  }
  return out;
}

/** Variance of the 3×3 Laplacian over the (H−2)×(W−2) interior of a luminance image [H, W]. */
export function laplacianVariance(lum: ArrayLike<number>, H: number, W: number): number {
  if (lum.length !== H * W) throw new Error(`laplacianVariance: ${lum.length} values do not fill ${H}×${W}`);
  if (H < 3 || W < 3) throw new Error(`laplacianVariance: invalid size ${H}×${W} (at least 3×3)`);
  const r = new Float64Array((H - 2) * (W - 2));
  let k = 0,
    mean = 0;
  for (let y = 1; y < H - 1; y++)
    for (let x = 1; x < W - 1; x++) {
      const i = y * W + x;
      r[k] = lum[i - W] + lum[i + W] + lum[i - 1] + lum[i + 1] - 4 * lum[i];
      mean += r[k++];
    }
  mean /= r.length;
  let v = 0;
  for (let i = 0; i < r.length; i++) v += (r[i] - mean) ** 2;
  return v / r.length;
}

/** Variance of the Laplacian of each image of a uint8 batch [n, H, W, C]. */
export function laplacianVariances(pixels: Uint8Array, n: number, H: number, W: number, C: number): Float64Array {
  const size = H * W * C;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = laplacianVariance(luminance(pixels.subarray(i * size, (i + 1) * size), H, W, C), H, W);
  return out;
}
