// What the distillation experiment (Algorithm 2) returns: the student's images against the
// teacher's on the same latents, the scores of both, the timings, and their summaries.
import type { FarmerModel } from '../../farmer/model';
import type { PngImage } from '../../plots/pixels';

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

export function checkModel(model: FarmerModel): void {
  if (!model.config.student)
    throw new Error(
      'the distillation notebook compares a distilled student with its teacher: load a student (e.g. mnist-farmer-student), not a teacher',
    );
}

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);

/** Per-image agreement averaged over the samples finite in both sets (PSNR over the non-identical ones). */
export function meanAgreement(r: DistillResult): {
  mae: number | null;
  psnr: number | null;
  ssim: number | null;
  pairs: number;
} {
  const ok = r.agreement.filter((a): a is ImageAgreement => a !== null);
  return {
    mae: mean(ok.map((a) => a.mae)),
    psnr: mean(ok.flatMap((a) => (a.psnr === null ? [] : [a.psnr]))),
    ssim: mean(ok.map((a) => a.ssim)),
    pairs: ok.length,
  };
}

export function speedups(t: DistillTiming): { inverse: number; whole: number } {
  return {
    inverse: t.teacherInversePerImage / t.studentInversePerImage,
    whole: (t.arPerImage + t.teacherInversePerImage) / (t.arPerImage + t.studentInversePerImage),
  };
}
