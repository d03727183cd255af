// What a distillation result says: speed-ups against the paper's, agreement, FID and IS of both.
import { fixed as f } from '../../plots/format';
import { meanAgreement, speedups, type DistillResult } from './result';

export function describeResult(r: DistillResult): string[] {
  const t = r.timing,
    s = speedups(t),
    a = meanAgreement(r);
  const ms = (v: number) => `${(1000 * v).toFixed(1)} ms`;
  const out = [
    `AF inverse per image on ${t.backend}: teacher ${ms(t.teacherInversePerImage)}, student ${ms(t.studentInversePerImage)} (${s.inverse.toFixed(1)}× faster; paper 22×). Whole sampling with the shared AR prior (${ms(t.arPerImage)}): ${s.whole.toFixed(1)}× (paper ≈ 4×).`,
    a.pairs > 0
      ? `On the same latents the student's images differ from the teacher's by ${f(a.mae)} pixel levels on average (PSNR ${f(a.psnr, 1)} dB, SSIM ${f(a.ssim, 3)}; ${a.pairs} pairs).`
      : 'No sample is finite in both sets: nothing to compare.',
    `FID teacher ${f(r.teacher.fid, 1)}, student ${f(r.student.fid, 1)}; IS ${f(r.teacher.is)} and ${f(r.student.is)} (paper: FID 5.55 → 5.63).`,
  ];
  const bad = r.n - r.teacher.finite + (r.n - r.student.finite);
  if (bad > 0)
    out.push(
      `Non-finite images: teacher ${r.n - r.teacher.finite}, student ${r.n - r.student.finite} of ${r.n}; they are left out of every score.`,
    );
  return out;
}
