// The tensor work of the distillation experiment (Algorithm 2): one set of latents from the AR
// prior the student file shares with its teacher, decoded by both, timed, compared and scored.
import * as tf from '@tensorflow/tfjs';
import { studentConfig } from '../../farmer/distill';
import { decodeLatents, type FarmerModel } from '../../farmer/model';
import { finiteRowsOf, sampleLatents } from '../../farmer/sampling';
import { keepFinite } from '../../farmer/sample-batches';
import { cyclingLabels } from '../../farmer/labels';
import { modelToPixels } from '../../data/dequantize';
import type { FeatureNet } from '../../metrics/features';
import { featureNetName } from '../../metrics/evaluate-model';
import type { GaussianStats } from '../../metrics/fid';
import { median } from '../../metrics/robust';
import { ssim, type Pixels } from '../../metrics/structure';
import { tileImages } from '../../plots/pixels';
import { referenceStats, scoreImages, scoringInputs } from '../scoring';
import { throwIfAborted, type ExperimentContext, type ExperimentInputs } from '../types';
import type { DistillParams } from './params';
import { checkModel, type DecoderScore, type DistillResult, type ImageAgreement } from './result';

/** Mean absolute error, PSNR (peak 255) and SSIM of two uint8 images of one shape. */
export function imageAgreement(a: Pixels, b: Pixels): ImageAgreement {
  let abs = 0,
    sq = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i] - b.data[i];
    abs += Math.abs(d);
    sq += d * d;
  }
  const mse = sq / a.data.length;
  return { mae: abs / a.data.length, psnr: mse === 0 ? null : 10 * Math.log10((255 * 255) / mse), ssim: ssim(a, b) };
}

async function score(
  net: FeatureNet,
  real: GaussianStats,
  pixels: Uint8Array,
  finite: boolean[],
): Promise<DecoderScore> {
  const kept = keepFinite(pixels, finite);
  const { fid, is } = await scoreImages(net, real, kept.pixels, kept.rows.length);
  return { finite: kept.rows.length, fid, is };
}

export async function runDistill(
  student: FarmerModel,
  inputs: ExperimentInputs,
  p: DistillParams,
  ctx: ExperimentContext = {},
): Promise<DistillResult> {
  checkModel(student);
  const teacher = inputs.teacher;
  if (!teacher)
    throw new Error("the distillation experiment needs the student's teacher (the zoo file its card names)");
  if (teacher.config.student) throw new Error('the teacher given is itself a student');
  if (JSON.stringify(studentConfig(teacher.config)) !== JSON.stringify(student.config))
    throw new Error("the teacher's configuration differs from the student's: it is not this student's teacher");
  const { net, test } = scoringInputs(student, inputs, p.n, 'distillation');
  const { height: H, width: W, channels: C } = student.config.image;
  const { tokens: N, tokenDim: d, pixels: size } = student.dims;
  const K = student.config.num_classes;
  const labels = K > 0 ? cyclingLabels(p.n, K) : null;
  const total = 1 + 2 * p.repeats + 1;
  let done = 0;
  const step = (label: string) => ctx.onProgress?.(++done, total, label);

  ctx.onProgress?.(0, total, 'AR prior');
  const t0 = performance.now();
  const { z } = await sampleLatents(student, { n: p.n, seed: p.seed, labels, signal: ctx.signal });
  const arSeconds = (performance.now() - t0) / 1000;
  step('AR prior');

  const zt = tf.tensor3d(z, [p.n, N, d]);
  const opts = labels ? { labels } : {};
  const decode = async (model: FarmerModel) => {
    const start = performance.now();
    const images = decodeLatents(model, zt, opts);
    try {
      const values = (await images.data()) as Float32Array;
      const seconds = (performance.now() - start) / 1000;
      return { seconds, finite: finiteRowsOf(values, p.n), pixels: modelToPixels(values, model.config.dequantization) };
    } finally {
      images.dispose();
    }
  };
  const teacherRuns: number[] = [],
    studentRuns: number[] = [];
  let outT!: Awaited<ReturnType<typeof decode>>, outS!: Awaited<ReturnType<typeof decode>>;
  try {
    // alternate the two, so that warm-up and a busy machine weigh on both alike
    for (let r = 0; r < p.repeats; r++) {
      throwIfAborted(ctx.signal);
      outT = await decode(teacher);
      teacherRuns.push(outT.seconds / p.n);
      step(`teacher AF inverse ${r + 1}/${p.repeats}`);
      throwIfAborted(ctx.signal);
      outS = await decode(student);
      studentRuns.push(outS.seconds / p.n);
      step(`student pass ${r + 1}/${p.repeats}`);
    }
  } finally {
    zt.dispose();
  }

  const image = (px: Uint8Array, i: number): Pixels => ({
    data: px.subarray(i * size, (i + 1) * size),
    height: H,
    width: W,
    channels: C,
  });
  const agreement = Array.from({ length: p.n }, (_, i) =>
    outT.finite[i] && outS.finite[i] ? imageAgreement(image(outS.pixels, i), image(outT.pixels, i)) : null,
  );

  throwIfAborted(ctx.signal);
  const real = await referenceStats(net, test, p.n);
  const teacherScore = await score(net, real, outT.pixels, outT.finite);
  const studentScore = await score(net, real, outS.pixels, outS.finite);
  step('FID and IS');

  const kept = Math.min(p.keep, p.n);
  const strip = (px: Uint8Array) => tileImages(px.subarray(0, kept * size), kept, H, W, C, { gap: 1, border: true });
  const difference = new Uint8Array(kept * size);
  for (let i = 0; i < difference.length; i++)
    difference[i] = Math.min(255, 4 * Math.abs(outS.pixels[i] - outT.pixels[i]));
  const name = featureNetName(net);
  return {
    n: p.n,
    seed: p.seed,
    classes: K,
    image: { height: H, width: W, channels: C },
    blocks: student.config.af.blocks,
    tokens: N,
    featureNet: name,
    fidLabel: `FID (${name} features, not Inception)`,
    isLabel: `IS (${name} class probabilities, not Inception)`,
    agreement,
    teacher: teacherScore,
    student: studentScore,
    timing: {
      arPerImage: arSeconds / p.n,
      teacherInversePerImage: median(teacherRuns),
      studentInversePerImage: median(studentRuns),
      teacherRuns,
      studentRuns,
      backend: tf.getBackend(),
    },
    kept,
    pictures:
      kept > 0 ? { teacher: strip(outT.pixels), student: strip(outS.pixels), difference: strip(difference) } : null,
  };
}
