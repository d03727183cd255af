// Image-set metrics in one call (browser and Node): FID, Inception Score and precision/recall of
// generated images against real ones, all through one dataset's feature network.
import { accuracy, argmaxRows, computeFeatures, type FeatureNet } from './features';
import { FEATURE_DIM } from './classifier';
import { featureStats, frechetDistance, type GaussianStats } from './fid';
import { inceptionScore, type InceptionScore } from './inception';
import { precisionRecall } from './precision-recall';

export interface ImageMetricsOptions {
  fid?: boolean;
  is?: boolean;
  pr?: boolean;
  /** neighbours of precision/recall; default 3 */
  k?: number;
  /** Inception Score splits; default 1 */
  splits?: number;
  batchSize?: number;
  /** precomputed statistics of the real features (skips their FID statistics) */
  realStats?: GaussianStats;
  /** the class each generated image was asked for: adds their class agreement (with `is`) */
  fakeLabels?: ArrayLike<number>;
  /** top-class probability from which an image counts as confidently classified; default 0.9 */
  confidence?: number;
}

export interface ImageMetrics {
  n_real: number;
  n_fake: number;
  fid?: number;
  /** of the generated images, from the first head's probabilities */
  inception?: InceptionScore;
  precision?: number;
  recall?: number;
  /** with `is`: share of images whose top class probability (first head) is ≥ `confidence`, generated and real */
  confident?: { fake: number; real: number; threshold: number; fake_classes: number[] };
  /** with `is` and `fakeLabels`: share of generated images classified as the class they were asked for */
  agreement?: number;
}

/** Share of probability rows [n, k] whose largest entry is ≥ threshold. */
export function confidentShare(probs: Float32Array, k: number, threshold: number): number {
  const n = probs.length / k;
  return n ? confidentClasses(probs, k, threshold).reduce((a, b) => a + b, 0) / n : NaN;
}

/** How many rows [n, k] of each class are confidently classified: counts [k] by top class, rows with top ≥ threshold. */
export function confidentClasses(probs: Float32Array, k: number, threshold: number): number[] {
  const counts = new Array<number>(k).fill(0);
  argmaxRows(probs, k).forEach((j, i) => {
    if (probs[i * k + j] >= threshold) counts[j]++;
  });
  return counts;
}

/** Real and generated images are uint8 [n, H, W, C] in the network's shape. */
export async function imageMetrics(
  net: FeatureNet,
  real: Uint8Array,
  nReal: number,
  fake: Uint8Array,
  nFake: number,
  {
    fid = true,
    is = true,
    pr = true,
    k = 3,
    splits = 1,
    batchSize,
    realStats,
    fakeLabels,
    confidence = 0.9,
  }: ImageMetricsOptions = {},
): Promise<ImageMetrics> {
  const out: ImageMetrics = { n_real: nReal, n_fake: nFake };
  const fakeF = await computeFeatures(net, fake, nFake, { batchSize });
  const needReal = pr || is || (fid && !realStats);
  const realF = needReal ? await computeFeatures(net, real, nReal, { batchSize }) : null;
  if (fid) {
    const rs = realStats ?? featureStats(realF!.features, nReal, FEATURE_DIM, 'real features');
    out.fid = frechetDistance(rs, featureStats(fakeF.features, nFake, FEATURE_DIM, 'generated features'));
  }
  if (is) {
    const [head, classes] = Object.entries(net.classifier.spec.heads)[0];
    out.inception = inceptionScore(fakeF.probs[head], nFake, classes, { splits });
    out.confident = {
      fake: confidentShare(fakeF.probs[head], classes, confidence),
      real: confidentShare(realF!.probs[head], classes, confidence),
      threshold: confidence,
      fake_classes: confidentClasses(fakeF.probs[head], classes, confidence),
    };
    if (fakeLabels) {
      if (fakeLabels.length !== nFake)
        throw new Error(`fakeLabels has ${fakeLabels.length} labels for ${nFake} generated images`);
      out.agreement = accuracy(fakeF.probs[head], fakeLabels, classes);
    }
  }
  if (pr) Object.assign(out, await precisionRecall(realF!.features, nReal, fakeF.features, nFake, FEATURE_DIM, { k }));
  return out;
}
