// The tensor work of the redundant-variance experiment (v2 Fig. 7). Latents are drawn twice with
// one seed, at s_R = 0 (z_R = μ_k) and s_R = 1 (μ_k + σ_k·ε); the informative tokens and every
// draw are the same in both, so the latent at any s_R is z⁰ + s_R·(z¹ − z⁰), exactly what
// sampling with that s_R and seed draws, at the cost of two AR passes instead of one per row.
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted, type ExperimentContext, type ExperimentInputs } from '../types';
import { decodeLatents, type FarmerModel } from '../../farmer/model';
import { finiteRowsOf, sampleLatents } from '../../farmer/sampling';
import { cyclingLabels, nullLabels } from '../../farmer/labels';
import { modelToPixels } from '../../data/dequantize';
import { colourError, edgeCorrelation, foregroundMask, ssim, type Pixels } from '../../metrics/structure';
import { tileImages } from '../../plots/pixels';
import type { RedundantParams } from './params';
import { REFERENCE_SCALE, checkModel, rowScales, type RedundantResult, type ScaleRow } from './result';

/** z⁰ + s·(z¹ − z⁰) on the redundant channels (the informative ones are equal in both). */
export function latentAtScale(
  z0: Float32Array,
  z1: Float32Array,
  scale: number,
  tokenDim: number,
  informative: number,
): Float32Array {
  const z = new Float32Array(z1);
  for (let i = 0; i < z.length; i++) if (i % tokenDim >= informative) z[i] = z0[i] + scale * (z1[i] - z0[i]);
  return z;
}

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);

export async function runRedundant(
  model: FarmerModel,
  inputs: ExperimentInputs,
  p: RedundantParams,
  ctx: ExperimentContext = {},
): Promise<RedundantResult> {
  void inputs;
  checkModel(model);
  const { height: H, width: W, channels: C } = model.config.image;
  const { tokens: N, tokenDim: d, informative: dI, redundant: dR } = model.dims;
  const K = model.config.num_classes;
  const labels = K > 0 ? cyclingLabels(p.n, K) : null;
  const scales = rowScales(p.scales);
  const total = 2 * N + scales.length;
  let done = 0;
  const draw = async (sRed: number) => {
    const base = done;
    const { z } = await sampleLatents(model, {
      n: p.n,
      seed: p.seed,
      labels,
      T: p.T,
      s: p.s,
      sRed,
      signal: ctx.signal,
      onProgress: (k) => ctx.onProgress?.(Math.min(base + k, base + N), total, `AR prior, s_R = ${sRed}`),
    });
    done = base + N;
    return z;
  };
  const z0 = await draw(0);
  const z1 = await draw(1);

  const size = H * W * C;
  const pixels = new Uint8Array(scales.length * p.n * size);
  const finite: boolean[][] = [];
  for (const [row, scale] of scales.entries()) {
    throwIfAborted(ctx.signal);
    const z = tf.tensor3d(latentAtScale(z0, z1, scale, d, dI), [p.n, N, d]);
    let images: tf.Tensor4D;
    try {
      images = decodeLatents(model, z, { labels: labels ?? nullLabels(p.n) });
    } finally {
      z.dispose();
    }
    try {
      const values = await images.data();
      finite.push(finiteRowsOf(values, p.n));
      pixels.set(modelToPixels(values, model.config.dequantization), row * p.n * size);
    } finally {
      images.dispose();
    }
    ctx.onProgress?.(++done, total, `AF inverse, s_R = ${scale}`);
  }

  const ref = scales.indexOf(REFERENCE_SCALE);
  const image = (row: number, col: number): Pixels => ({
    data: pixels.subarray((row * p.n + col) * size, (row * p.n + col + 1) * size),
    height: H,
    width: W,
    channels: C,
  });
  const masks = C === 3 ? Array.from({ length: p.n }, (_, c) => foregroundMask(image(ref, c))) : null;
  const rows: ScaleRow[] = scales.map((scale, row) => {
    const cols = Array.from({ length: p.n }, (_, c) => c).filter((c) => finite[row][c] && finite[ref][c]);
    return {
      scale,
      finite: finite[row],
      ssim: mean(cols.map((c) => ssim(image(ref, c), image(row, c)))),
      edge: mean(cols.map((c) => edgeCorrelation(image(ref, c), image(row, c))).filter(Number.isFinite)),
      colour: masks ? mean(cols.map((c) => colourError(image(ref, c), image(row, c), masks[c]))) : null,
    };
  });
  return {
    image: { height: H, width: W, channels: C },
    dims: { informative: dI, redundant: dR, tokenDim: d },
    labels: labels ? Array.from(labels) : Array(p.n).fill(-1),
    n: p.n,
    reference: REFERENCE_SCALE,
    rows,
    pixels,
    grid: tileImages(pixels, scales.length * p.n, H, W, C, { cols: p.n, gap: 1 }),
  };
}
