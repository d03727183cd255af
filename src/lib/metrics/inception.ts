// Inception Score from class probabilities p(y|x): IS = exp E_x[ KL(p(y|x) ‖ p(y)) ], p(y) the
// mean of p(y|x) over the split; with `splits` > 1 the images are cut into equal consecutive
// parts and the mean and (population) standard deviation of the per-part scores are reported.
import { checkMatrix, MetricInputError } from './check';

export interface InceptionScore {
  mean: number;
  std: number;
  /** one score per split */
  scores: number[];
}

export function inceptionScore(
  probs: ArrayLike<number>,
  n: number,
  classes: number,
  { splits = 1 } = {},
): InceptionScore {
  checkMatrix(probs, n, classes, 'class probabilities');
  if (!Number.isInteger(splits) || splits < 1 || splits > n)
    throw new MetricInputError(`splits must be an integer in [1, ${n}], got ${splits}`);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < classes; c++) {
      const p = probs[i * classes + c];
      if (p < 0) throw new MetricInputError(`class probabilities: negative value in row ${i}`);
      s += p;
    }
    if (Math.abs(s - 1) > 1e-3) throw new MetricInputError(`class probabilities: row ${i} sums to ${s}, not 1`);
  }
  const scores: number[] = [];
  for (let k = 0; k < splits; k++) {
    const i0 = Math.floor((k * n) / splits),
      i1 = Math.floor(((k + 1) * n) / splits);
    const marginal = new Float64Array(classes);
    for (let i = i0; i < i1; i++) for (let c = 0; c < classes; c++) marginal[c] += probs[i * classes + c];
    for (let c = 0; c < classes; c++) marginal[c] /= i1 - i0;
    let kl = 0;
    for (let i = i0; i < i1; i++)
      for (let c = 0; c < classes; c++) {
        const p = probs[i * classes + c];
        if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[c])); // 0·log 0 = 0
      }
    scores.push(Math.exp(kl / (i1 - i0)));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { mean, std, scores };
}
