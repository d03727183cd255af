// One-step distillation (Algorithm 2): the same latents, drawn once from the shared AR prior,
// decoded by the teacher's sequential AF inverse and by the student's one parallel pass per block.
// How close the student's images are to the teacher's (per image: mean absolute error, PSNR,
// SSIM), FID and IS of both sets, and the time each decoder takes (medians of repeated decodes).
// Paper (1.1B, ImageNet): AF reverse 0.1689 → 0.0076 s/img (22×), whole sampling 0.2189 → 0.0567
// s/img (≈ 4×), FID 5.55 → 5.63. Tensor work in run.ts.
import type { Experiment } from '../types';
import { distillFigures } from './figures';
import { distillParams, type DistillParams } from './params';
import { describeResult } from './reading';
import { meanAgreement, speedups, type DistillResult } from './result';

export type { DistillParams, DistillResult };

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

export const experiment: Experiment<DistillParams, DistillResult> = {
  id: 'distill',
  title: 'One-step distillation: student against teacher',
  params: distillParams,
  needs: { featureNet: true, teacher: true },

  cost(p, model) {
    const { tokens: N } = model.dims;
    const blocks = model.config.af.blocks;
    return {
      units: p.n * N + p.repeats * p.n * (N + 1),
      description: `${p.n} latents through ${N} sequential AR steps, then each decoded ${p.repeats} time(s) by the teacher (${blocks} blocks of ${N} sequential token steps) and by the student (${blocks} parallel passes), then FID and IS of both`,
    };
  },

  async run(model, inputs, p, ctx) {
    const { runDistill } = await import('./run');
    return runDistill(model, inputs, p, ctx);
  },

  toJSON,
  figures: (r, _p, doc) => distillFigures(r, doc),

  thumbnail: {
    figure: 'pairs',
    model: 'mnist-farmer-student',
    params: { n: '16', keep: '8', repeats: '1' },
    seed: 0,
    alt: "The same latents decoded by the teacher's AF inverse and by the one-step student, with their difference.",
  },
};
