// What a redundant-variance result says: how structure changes with s_R, from the measured rows.
import { fixed } from '../../plots/format';
import type { RedundantResult } from './result';

const f3 = (v: number | null) => fixed(v, 3);

/** How structure changes with s_R, in words, from the measured rows. */
export function describeRows(r: RedundantResult): string[] {
  const rows = r.rows.filter((q) => q.scale !== r.reference && q.ssim !== null);
  if (rows.length === 0) return ['No finite image pairs to compare with s_R = 1.'];
  const lo = rows[0],
    hi = rows[rows.length - 1];
  const out = [
    `Against s_R = 1, the lowest scale (${lo.scale}) keeps SSIM ${f3(lo.ssim)} and edge correlation ${f3(lo.edge)}; the highest (${hi.scale}) ${f3(hi.ssim)} and ${f3(hi.edge)}.`,
  ];
  const bad = r.rows.reduce((a, q) => a + q.finite.filter((f) => !f).length, 0);
  if (bad > 0) out.push(`${bad} image(s) hold NaN or Inf (drawn black) and are left out of the scores.`);
  return out;
}
