// What the experiments that score samples share (sensitivity, guidance, distill): the dataset's
// feature network and test split checked against the model, the test images' feature statistics
// as FID's reference, and FID / IS of a set of finite samples.
import type { FarmerModel } from '../farmer/model';
import type { LabelledSet } from '../data/binfile';
import { FEATURE_DIM } from '../metrics/classifier';
import { computeFeatures, type FeatureNet } from '../metrics/features';
import { featureStats, frechetDistance, type GaussianStats } from '../metrics/fid';
import { inceptionScore } from '../metrics/inception';
import type { ExperimentInputs } from './types';

/** The feature network and test split, refused with one message when absent or of another image size, or when n exceeds the split. */
export function scoringInputs(
  model: FarmerModel,
  inputs: ExperimentInputs,
  n: number,
  experiment: string,
): { net: FeatureNet; test: LabelledSet } {
  const { height, width, channels } = model.config.image;
  const net = inputs.featureNet;
  if (!net) throw new Error(`the ${experiment} experiment needs the dataset's feature network (FID and IS)`);
  const spec = net.classifier.spec,
    test = inputs.testSet;
  if (spec.height !== height || spec.width !== width || spec.channels !== channels)
    throw new Error(
      `the feature network takes ${spec.height}×${spec.width}×${spec.channels} images; the model makes ${height}×${width}×${channels}`,
    );
  if (test.height !== height || test.width !== width || test.channels !== channels)
    throw new Error(
      `test images are ${test.height}×${test.width}×${test.channels}; the model makes ${height}×${width}×${channels}`,
    );
  if (n > test.n) throw new Error(`invalid n: ${n} is more than the ${test.n} test images`);
  return { net, test };
}

/** FID's reference: the feature statistics of the first n test images. */
export async function referenceStats(net: FeatureNet, test: LabelledSet, n: number): Promise<GaussianStats> {
  const size = test.height * test.width * test.channels;
  const f = await computeFeatures(net, test.images.subarray(0, n * size), n);
  return featureStats(f.features, n, FEATURE_DIM, 'test-image features');
}

export interface ImageScores {
  /** null below two images */
  fid: number | null;
  /** null without images */
  is: number | null;
  /** the first head's class probabilities [count, classes] */
  probs: Float32Array;
  classes: number;
}

/** FID against `real` and IS of `count` uint8 images [count, H, W, C] (finite samples only). */
export async function scoreImages(
  net: FeatureNet,
  real: GaussianStats,
  pixels: Uint8Array,
  count: number,
): Promise<ImageScores> {
  const [head, classes] = Object.entries(net.classifier.spec.heads)[0];
  if (count === 0) return { fid: null, is: null, probs: new Float32Array(0), classes };
  const f = await computeFeatures(net, pixels, count);
  return {
    fid: count >= 2 ? frechetDistance(real, featureStats(f.features, count, FEATURE_DIM, 'generated features')) : null,
    is: inceptionScore(f.probs[head], count, classes).mean,
    probs: f.probs[head],
    classes,
  };
}
