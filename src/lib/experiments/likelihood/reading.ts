// What a likelihood result says: the model's BPD against the independent-pixel baselines.
import type { LikelihoodResult } from './result';

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–');

/** The model's mean BPD against the histogram baselines, in words. */
export function describeAgainstBaseline(r: LikelihoodResult): string {
  const s = r.summary;
  if (s.n === 0) return 'No finite BPD yet.';
  const head = `Mean test BPD ${f3(s.bpd)} ± ${f3(s.ci95)} (95% interval) over ${s.n} images`;
  const b = r.baseline;
  if (!b) return `${head}; no test images are left after the first ${r.requested} to fit the histogram baselines.`;
  const vs =
    s.bpd > b.perPosition
      ? `above the ${f3(b.perPosition)} bits/dim of independent pixels with one histogram per position: the model has not yet learned even the per-pixel value distributions, let alone shapes`
      : `below the ${f3(b.perPosition)} bits/dim of independent pixels with one histogram per position, by ${f3(b.perPosition - s.bpd)}: those bits come from dependencies between pixels`;
  return `${head}, ${vs}.`;
}
