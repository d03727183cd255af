// The tensor work of the separation experiment (suppl. Fig. 8): the forward pass to every
// requested depth, the latents interpolated with noise and inverted back to pixels, and the
// structure scores; the grid's PNG is encoded here too (in the worker), so the page only places it.
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted, type ExperimentContext, type ExperimentInputs } from '../types';
import { analyzeForward, decodeLatents, disposeAnalysis, type FarmerModel } from '../../farmer/model';
import { NULL_LABEL } from '../../farmer/labels';
import { toModelSpace, toPixels } from '../../data/dequantize';
import { colourError, edgeCorrelation, foregroundMask, ssim, type Pixels } from '../../metrics/structure';
import { Rng } from '../../util/random';
import { gridPng } from './grid';
import type { SeparationParams } from './params';
import {
  FORMULA,
  alphaLevels,
  modesOf,
  type CurvePoint,
  type CurveSummary,
  type LatentScale,
  type SeparationResult,
} from './result';

/**
 * z_α over the channels [from, d) of every token, the rest copied. Variance preserving rather
 * than linear ((1−α)z + αε): a flow under a Gaussian prior is trained towards unit-variance latents,
 * and √(1−α²) keeps Var z_α = 1 at every α, so the interpolated latent stays on the shell where
 * they live and α measures lost information only. FARMER's latents need not be unit-variance
 * (its prior is learned, and Z^k before the last block has no prior at all): `latentScales` says
 * how far they are. Linear interpolation shrinks the variance
 * to 0.5 at α = ½, an atypically small latent that decodes to a smoothed image even without any
 * loss of information. Both agree at α = 0 (z) and α = 1 (ε).
 */
export function interpolateLatent(
  z: Float32Array,
  eps: Float32Array,
  alpha: number,
  d: number,
  from: number,
): Float32Array {
  const out = Float32Array.from(z);
  const keep = Math.sqrt(1 - alpha * alpha);
  for (let t = 0; t < z.length; t += d)
    for (let j = from; j < d; j++) out[t + j] = keep * z[t + j] + alpha * eps[t + j];
  return out;
}

/** Mean and standard deviation of the channels [from, d) of every token of z [B·N·d]. */
export function channelScale(z: Float32Array, d: number, from: number): { mean: number; sd: number } {
  let n = 0,
    sum = 0;
  for (let t = 0; t < z.length; t += d) for (let j = from; j < d; j++, n++) sum += z[t + j];
  const mean = sum / n;
  let sq = 0;
  for (let t = 0; t < z.length; t += d) for (let j = from; j < d; j++) sq += (z[t + j] - mean) ** 2;
  return { mean, sd: Math.sqrt(sq / n) };
}

/** Noise ε [N·d] of sample s: stream s of `new Rng(seed)` forked in sample order. */
export function sampleNoise(seed: number, samples: number, size: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: samples }, () => rng.fork().normals(size));
}

function meanSd(v: number[]): [number, number] {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)];
}

function area(alphas: number[], v: number[]): number {
  let s = 0;
  for (let i = 1; i < alphas.length; i++) s += ((alphas[i] - alphas[i - 1]) * (v[i] + v[i - 1])) / 2;
  return s;
}

interface Samples {
  pixels: Uint8Array[];
  labels: Int32Array | null;
  sources: (number | null)[];
}

/** With `inputs.image` (uploaded or drawn), every sample is that image, each with its own noise. */
function pickSamples(model: FarmerModel, inputs: ExperimentInputs, p: SeparationParams): Samples {
  const { height: H, width: W, channels: C } = model.config.image;
  const size = H * W * C;
  const numClasses = model.config.num_classes;
  const label = (y: number | undefined) =>
    y !== undefined && Number.isInteger(y) && y >= 0 && y < numClasses ? y : NULL_LABEL;
  if (inputs.image) {
    const { pixels, height, width, channels } = inputs.image;
    if (height !== H || width !== W || channels !== C || pixels.length !== size)
      throw new Error(
        `invalid image: ${height}×${width}×${channels} (${pixels.length} values), the model takes ${H}×${W}×${C}`,
      );
    const y = label(inputs.image.label);
    return {
      pixels: Array.from({ length: p.images }, () => inputs.image!.pixels),
      labels: numClasses > 0 ? new Int32Array(p.images).fill(y) : null,
      sources: Array(p.images).fill(null),
    };
  }
  const set = inputs.testSet;
  if (set.height !== H || set.width !== W || set.channels !== C)
    throw new Error(`test set images are ${set.height}×${set.width}×${set.channels}, the model takes ${H}×${W}×${C}`);
  if (p.image >= set.n) throw new Error(`invalid image: ${p.image} (the test set has ${set.n} images)`);
  const sources = Array.from({ length: p.images }, (_, s) => (p.image + s) % set.n);
  return {
    pixels: sources.map((i) => set.images.subarray(i * size, (i + 1) * size)),
    labels: numClasses > 0 ? Int32Array.from(sources, (i) => label(set.labels[i])) : null,
    sources,
  };
}

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function runSeparation(
  model: FarmerModel,
  inputs: ExperimentInputs,
  p: SeparationParams,
  ctx: ExperimentContext = {},
): Promise<SeparationResult> {
  const t0 = performance.now();
  const { height: H, width: W, channels: C } = model.config.image;
  const { tokens: N, tokenDim: d, informative: dI } = model.dims;
  const pixelsPerImage = H * W * C;
  const depths = p.depths;
  const alphas = alphaLevels(p.levels);
  const modes = modesOf(model);
  const S = p.images,
    M = modes.length,
    L = alphas.length;
  const samples = pickSamples(model, inputs, p);
  const images: Pixels[] = samples.pixels.map((data) => ({ data, height: H, width: W, channels: C }));
  const masks = C === 3 ? images.map((im) => foregroundMask(im)) : null;

  const total = 1 + depths.reduce((a, k) => a + k, 0);
  let done = 0;
  const progress = (label: string) => ctx.onProgress?.(done, total, label);
  progress('forward');

  // Z^k for every requested depth, [S, N, d] each.
  const xModel = new Float32Array(S * pixelsPerImage);
  samples.pixels.forEach((px, s) => xModel.set(toModelSpace(px), s * pixelsPerImage));
  const x = tf.tensor4d(xModel, [S, H, W, C]);
  const analysis = analyzeForward(model, x, samples.labels, true);
  x.dispose();
  let latents: Float32Array[];
  try {
    latents = await Promise.all(depths.map(async (k) => (await analysis.latents[k - 1].data()) as Float32Array));
  } finally {
    disposeAnalysis(analysis);
  }
  done++;
  progress('forward');
  const latentScales: LatentScale[] = depths.flatMap((k, di) =>
    modes.map((mode) => ({ depth: k, mode, ...channelScale(latents[di], d, mode === 'partial' ? dI : 0) })),
  );
  const eps = sampleNoise(p.seed, S, N * d);

  const grid = new Uint8Array(depths.length * M * L * pixelsPerImage);
  const scores = new Map<string, { ssim: number[]; edge: number[]; colour: number[]; nonFinite: number }>();
  let roundTripError = 0,
    nonFinite = 0;
  const batchLabels = samples.labels
    ? Int32Array.from({ length: S * M * L }, (_, r) => samples.labels![Math.floor(r / (M * L))])
    : null;

  for (const [di, k] of depths.entries()) {
    throwIfAborted(ctx.signal);
    // One batch per depth, rows ordered (sample, mode, α).
    const batch = new Float32Array(S * M * L * N * d);
    for (let s = 0; s < S; s++) {
      const z = latents[di].subarray(s * N * d, (s + 1) * N * d);
      for (const [mi, mode] of modes.entries())
        for (const [ai, alpha] of alphas.entries())
          batch.set(
            interpolateLatent(z, eps[s], alpha, d, mode === 'partial' ? dI : 0),
            ((s * M + mi) * L + ai) * N * d,
          );
    }
    const zt = tf.tensor3d(batch, [S * M * L, N, d]);
    let decoded: Float32Array;
    try {
      const xs = decodeLatents(model, zt, {
        startBlock: k,
        labels: batchLabels,
        onBlock: (j) => {
          done++;
          progress(`depth ${k}: inverted block ${j}`);
        },
      });
      decoded = (await xs.data()) as Float32Array;
      xs.dispose();
    } finally {
      zt.dispose();
    }
    for (let s = 0; s < S; s++)
      for (const [mi, mode] of modes.entries())
        for (const [ai, alpha] of alphas.entries()) {
          const off = ((s * M + mi) * L + ai) * pixelsPerImage;
          const row = decoded.subarray(off, off + pixelsPerImage);
          for (let i = 0; i < row.length; i++) {
            if (!Number.isFinite(row[i])) nonFinite++;
            else if (alpha === 0)
              roundTripError = Math.max(roundTripError, Math.abs(row[i] - xModel[s * pixelsPerImage + i]));
          }
          const finite = row.every((v) => Number.isFinite(v));
          if (alpha === 0 && !finite) roundTripError = Infinity;
          const px = toPixels(row);
          if (s === 0) grid.set(px, ((di * M + mi) * L + ai) * pixelsPerImage);
          const img: Pixels = { data: px, height: H, width: W, channels: C };
          const key = `${k}|${mode}|${ai}`;
          const acc = scores.get(key) ?? { ssim: [], edge: [], colour: [], nonFinite: 0 };
          if (!finite) acc.nonFinite++;
          acc.ssim.push(ssim(images[s], img));
          acc.edge.push(edgeCorrelation(images[s], img));
          if (masks) acc.colour.push(colourError(images[s], img, masks[s]));
          scores.set(key, acc);
        }
    const result = assemble(depths.slice(0, di + 1));
    ctx.onPartial?.(result);
    await nextTask(); // lets a cancel message in before the next inversion
  }
  throwIfAborted(ctx.signal);
  return assemble(depths);

  function assemble(ks: number[]): SeparationResult {
    const curves: CurvePoint[] = [];
    const summary: CurveSummary[] = [];
    for (const k of ks)
      for (const mode of modes) {
        const pts = alphas.map((alpha, ai) => {
          const acc = scores.get(`${k}|${mode}|${ai}`)!;
          const [ssimMean, ssimSd] = meanSd(acc.ssim);
          const [edge, edgeSd] = meanSd(acc.edge);
          const [colour, colourSd] = masks ? meanSd(acc.colour) : [null, null];
          const nf = acc.nonFinite; // images at this point, not the run's value count above
          return { depth: k, mode, alpha, ssim: ssimMean, ssimSd, edge, edgeSd, colour, colourSd, nonFinite: nf };
        });
        curves.push(...pts);
        summary.push({
          depth: k,
          mode,
          ssimArea: area(
            alphas,
            pts.map((q) => q.ssim),
          ),
          edgeArea: area(
            alphas,
            pts.map((q) => q.edge),
          ),
          colourArea: masks
            ? area(
                alphas,
                pts.map((q) => q.colour!),
              )
            : null,
        });
      }
    const notes: string[] = [];
    if (!modes.includes('partial'))
      notes.push(
        'This model has a Gaussian prior: there is no informative/redundant split (d_R is undefined), so only Full interpolation is shown.',
      );
    if (nonFinite > 0) {
      const failed = curves.filter((c) => c.nonFinite > 0);
      const where = failed.map((c) => `depth ${c.depth}, ${c.mode}, α ${c.alpha}: ${c.nonFinite} of ${S}`);
      const bad = new Set(failed.map((c) => `${c.depth}|${c.mode}`));
      const scales = latentScales
        .filter((q) => bad.has(`${q.depth}|${q.mode}`))
        .map((q) => `depth ${q.depth}, ${q.mode}: mean ${q.mean.toFixed(2)}, sd ${q.sd.toFixed(2)}`);
      const unbounded =
        model.config.af.soft_clip > 0 ? '' : ' (soft_clip is 0, so nothing bounds the log-scale a in exp(a))';
      notes.push(
        `${nonFinite} decoded values were not finite (NaN/Inf); they are drawn black and score as black pixels. ` +
          `Images with such values: ${where.join('; ')}. ` +
          `The noise has mean 0 and sd 1; on these images the noised channels of the clean latent have ${scales.join('; ')}. ` +
          `Noise unlike the latent's own values can decode through values the AF never saw, where its inverse can overflow${unbounded}.`,
      );
    }
    const clean = Uint8Array.from(samples.pixels[0]),
      shown = grid.slice(0, ks.length * M * L * pixelsPerImage);
    return {
      formula: FORMULA,
      alphas,
      depths: ks,
      modes,
      notes,
      dims: model.dims,
      height: H,
      width: W,
      channels: C,
      sources: samples.sources,
      clean,
      grid: shown,
      gridImage: gridPng({ height: H, width: W, channels: C, alphas, modes, depths: ks, clean, grid: shown }),
      curves,
      summary,
      roundTripError,
      nonFinite,
      latentScales: latentScales.filter((q) => ks.includes(q.depth)),
      seconds: (performance.now() - t0) / 1000,
    };
  }
}
