// What a logdet result says in words: the fitted outlier rule per source, and the sign of the
// correlation between logdet and sharpness against the paper's claim.
import type { Correlation } from '../../metrics/rank';
import type { SourceResult } from './result';

/** The measured sign in plain words, against the paper's prediction. */
export function describeCorrelation(c: Correlation, what: string): string {
  if (!Number.isFinite(c.rho))
    return `${what}: Spearman ρ is undefined (${c.n} images; it needs at least 2 with differing values).`;
  const rho = `Spearman ρ(logdet, variance of the Laplacian) = ${c.rho.toFixed(3)} over ${c.n} ${what}`;
  const p = Number.isFinite(c.p) ? ` (permutation p ${c.p < 0.001 ? '< 0.001' : `= ${c.p.toFixed(3)}`})` : '';
  const sign =
    c.rho < 0
      ? 'negative: higher logdet goes with less sharp images, the sign the paper’s claim predicts'
      : c.rho > 0
        ? 'positive: higher logdet goes with sharper images, the opposite of the paper’s claim'
        : 'zero: no monotone relation';
  return `${rho}${p}: ${sign}.`;
}

export const PREDICTION =
  'The paper’s claim (outlying, large logdet looks blurred) predicts a negative correlation: higher logdet, less sharp.';

const f1 = (v: number) => v.toFixed(1);

/** One sentence per source: the fitted rule's numbers and how many images it flags. */
export function ruleSentence(src: SourceResult): string {
  const what = src.source === 'test' ? 'test images' : 'samples';
  const left =
    src.nonFinite.length > 0
      ? ` ${src.nonFinite.length} of ${src.requested} ${what} had NaN or Inf pixels or logdet and are left out of everything.`
      : '';
  const r = src.rule;
  if (!r) return `No finite ${what} to fit the rule to.${left}`;
  const flagged = src.points.filter((q) => q.outlier);
  const high = flagged.filter((q) => q.z > 0).length;
  const range =
    r.scale > 0
      ? `outliers lie outside [${f1(r.lower)}, ${f1(r.upper)}] nats`
      : 'all logdets are equal, so nothing is an outlier';
  return (
    `${what[0].toUpperCase()}${what.slice(1)}: median ${f1(r.median)} nats, MAD ${r.mad.toFixed(2)}` +
    `${r.scaleKind === 'mean-ad' ? ' (0, so the mean absolute deviation sets the scale)' : ''}; ${range}: ` +
    `${flagged.length} of ${src.points.length} flagged (${high} high, ${flagged.length - high} low).${left}`
  );
}
