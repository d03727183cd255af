// What a guidance result says, row by row: FID, IS and class agreement of each method.
import { fixed as f, percent as pct } from '../../plots/format';
import type { GuidanceResult, GuidanceRow } from './result';

/** What the finished rows say, in words. */
export function describeRows(r: GuidanceResult): string[] {
  const rows = r.rows.filter((q): q is GuidanceRow => q !== null);
  if (rows.length === 0) return ['No setting has been computed yet.'];
  const out: string[] = [];
  const base = rows.find((q) => q.method === 'none');
  if (base)
    out.push(
      `Unguided: FID ${f(base.fid, 1)}, IS ${f(base.is)}, ${pct(base.accuracy)} of samples read as the asked class.`,
    );
  for (const method of ['naive', 'resampling'] as const) {
    const mine = rows.filter((q) => q.method === method && q.fid !== null);
    if (mine.length === 0) continue;
    const best = mine.reduce((a, b) => (b.fid! < a.fid! ? b : a));
    const top = mine.reduce((a, b) => ((b.accuracy ?? -1) > (a.accuracy ?? -1) ? b : a));
    out.push(
      `${method === 'naive' ? 'Naive' : 'Resampling'} CFG: lowest FID ${f(best.fid, 1)} at w = ${best.w}; class agreement up to ${pct(top.accuracy)} (w = ${top.w}).`,
    );
  }
  const naive = rows.filter((q) => q.method === 'naive');
  const fallbacks = naive.reduce((a, q) => a + q.fallbacks, 0),
    dims = naive.reduce((a, q) => a + q.guidedDims, 0);
  if (dims > 0)
    out.push(
      `Naive CFG fell back to the conditional draw in ${fallbacks} of ${dims} dimensions (${((100 * fallbacks) / dims).toFixed(2)}%).`,
    );
  const bad = rows.reduce((a, q) => a + q.nonFinite, 0);
  if (bad > 0) out.push(`${bad} sample(s) held NaN or Inf and are left out of every score.`);
  return out;
}
