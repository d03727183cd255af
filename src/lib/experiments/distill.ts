// One-step distillation (Algorithm 2, paper-notes.md experiment 7): the same latents, drawn once
// from the shared AR prior, decoded by the teacher's sequential AF inverse and by the student's one
// parallel pass per block. How close the student's images are to the teacher's (per image: mean
// absolute error, PSNR, SSIM), FID and IS of both sets, and the time each decoder takes (medians of
// repeated decodes). Paper (1.1B, ImageNet): AF reverse 0.1689 → 0.0076 s/img (22×), whole sampling
// 0.2189 → 0.0567 s/img (≈ 4×), FID 5.55 → 5.63. Tensor work in distill-run.ts.
import type { FarmerModel } from '../farmer/model';
import type { Experiment, Figure } from './types';
import type { PngImage } from './pixels';
import { intParam, seedParam } from './params';
import { agreementHistogram, distillPairs, timingBars } from '../plots/distill';

export type DistillParams = {
  /** samples, labels cycling through the classes; also the test images in the FID reference */
  n: number;
  /** samples shown as teacher / student / difference columns */
  keep: number;
  /** decodes timed per decoder; the median counts */
  repeats: number;
  seed: number;
};

export interface ImageAgreement {
  /** mean |student − teacher| on the 0…255 scale */
  mae: number;
  /** dB, peak 255; null when the images are identical */
  psnr: number | null;
  ssim: number;
}

export interface DecoderScore {
  finite: number;
  fid: number | null;
  is: number | null;
}

export interface DistillTiming {
  /** seconds per image: drawing the latents through the AR prior (once, shared) */
  arPerImage: number;
  /** seconds per image of the AF inverse, median over the repeats */
  teacherInversePerImage: number;
  studentInversePerImage: number;
  /** every repeat's seconds per image, for the spread */
  teacherRuns: number[];
  studentRuns: number[];
  backend: string;
}

export interface DistillResult {
  n: number;
  seed: number;
  classes: number;
  image: { height: number; width: number; channels: number };
  blocks: number;
  tokens: number;
  featureNet: string;
  fidLabel: string;
  isLabel: string;
  /** per sample, null where either image holds NaN or Inf */
  agreement: (ImageAgreement | null)[];
  teacher: DecoderScore;
  student: DecoderScore;
  timing: DistillTiming;
  kept: number;
  /** the first `kept` samples: teacher, student and 4·|student − teacher| strips */
  pictures: { teacher: PngImage; student: PngImage; difference: PngImage } | null;
}

export const MAX_N = 1000;

export function checkModel(model: FarmerModel): void {
  if (!model.config.student)
    throw new Error('the distillation notebook compares a distilled student with its teacher: load a student (e.g. mnist-farmer-student), not a teacher');
}

function defaults(model: FarmerModel): DistillParams {
  void model;
  return { n: 64, keep: 8, repeats: 3, seed: 0 };
}

function parseParams(raw: Record<string, unknown>, model: FarmerModel): DistillParams {
  checkModel(model);
  const d = defaults(model);
  return {
    n: intParam(raw, 'n', d.n, 2, MAX_N),
    keep: intParam(raw, 'keep', d.keep, 0, 32),
    repeats: intParam(raw, 'repeats', d.repeats, 1, 9),
    seed: seedParam(raw, d.seed),
  };
}

function cost(p: DistillParams, model: FarmerModel): { units: number; description: string } {
  const { tokens: N } = model.dims;
  const blocks = model.config.af.blocks;
  return {
    units: p.n * N + p.repeats * p.n * (N + 1),
    description: `${p.n} latents through ${N} sequential AR steps, then each decoded ${p.repeats} time(s) by the teacher (${blocks} blocks of ${N} sequential token steps) and by the student (${blocks} parallel passes), then FID and IS of both`,
  };
}

async function run(...args: Parameters<Experiment<DistillParams, DistillResult>['run']>): Promise<DistillResult> {
  const { runDistill } = await import('./distill-run');
  return runDistill(...args);
}

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
const f = (v: number | null, digits = 2) => (v === null ? '–' : v.toFixed(digits));

/** Per-image agreement averaged over the samples finite in both sets (PSNR over the non-identical ones). */
export function meanAgreement(r: DistillResult): { mae: number | null; psnr: number | null; ssim: number | null; pairs: number } {
  const ok = r.agreement.filter((a): a is ImageAgreement => a !== null);
  return { mae: mean(ok.map((a) => a.mae)), psnr: mean(ok.flatMap((a) => (a.psnr === null ? [] : [a.psnr]))), ssim: mean(ok.map((a) => a.ssim)), pairs: ok.length };
}

export function speedups(t: DistillTiming): { inverse: number; whole: number } {
  return {
    inverse: t.teacherInversePerImage / t.studentInversePerImage,
    whole: (t.arPerImage + t.teacherInversePerImage) / (t.arPerImage + t.studentInversePerImage),
  };
}

export function describeResult(r: DistillResult): string[] {
  const t = r.timing, s = speedups(t), a = meanAgreement(r);
  const ms = (v: number) => `${(1000 * v).toFixed(1)} ms`;
  const out = [
    `AF inverse per image on ${t.backend}: teacher ${ms(t.teacherInversePerImage)}, student ${ms(t.studentInversePerImage)} (${s.inverse.toFixed(1)}× faster; paper 22×). Whole sampling with the shared AR prior (${ms(t.arPerImage)}): ${s.whole.toFixed(1)}× (paper ≈ 4×).`,
    a.pairs > 0
      ? `On the same latents the student's images differ from the teacher's by ${f(a.mae)} pixel levels on average (PSNR ${f(a.psnr, 1)} dB, SSIM ${f(a.ssim, 3)}; ${a.pairs} pairs).`
      : 'No sample is finite in both sets: nothing to compare.',
    `FID teacher ${f(r.teacher.fid, 1)}, student ${f(r.student.fid, 1)}; IS ${f(r.teacher.is)} and ${f(r.student.is)} (paper: FID 5.55 → 5.63).`,
  ];
  const bad = r.n - r.teacher.finite + (r.n - r.student.finite);
  if (bad > 0) out.push(`Non-finite images: teacher ${r.n - r.teacher.finite}, student ${r.n - r.student.finite} of ${r.n}; they are left out of every score.`);
  return out;
}

function toJSON(r: DistillResult, p: DistillParams): unknown {
  const s = speedups(r.timing);
  return {
    experiment: 'distill',
    params: p,
    feature_network: r.featureNet,
    fid_label: r.fidLabel,
    is_label: r.isLabel,
    timing_s_per_image: { ...r.timing, speedup_inverse: s.inverse, speedup_whole: s.whole },
    teacher: r.teacher,
    student: r.student,
    mean_agreement: meanAgreement(r),
    agreement: r.agreement,
    reading: describeResult(r),
  };
}

function* figures(r: DistillResult, p: DistillParams, doc: Document): Generator<Figure> {
  void p;
  if (r.pictures) yield { name: 'pairs', node: distillPairs(r, doc) };
  yield { name: 'timing', node: timingBars(r, doc) };
  if (r.agreement.some((a) => a !== null)) yield { name: 'agreement', node: agreementHistogram(r, doc) };
}

export const experiment: Experiment<DistillParams, DistillResult> = {
  id: 'distill',
  title: 'One-step distillation: student against teacher',
  defaults,
  parseParams,
  cost,
  run,
  toJSON,
  figures,
};
