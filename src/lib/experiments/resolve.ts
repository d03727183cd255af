// Resolve and gather: what every caller of an experiment does before `run`. The worker's
// runExperiment handler, `farmer reproduce` and the page's cell all resolve parameters here
// (defaults merged, the seed set, parsed once); the worker and `reproduce` then gather the inputs
// the experiment needs from their own sources (fetch in the browser, files in Node).
import type { LabelledSet } from '../data/binfile';
import { datasets, type DatasetName } from '../data/datasets';
import type { FarmerModel } from '../farmer/model';
import { cardSampling, finalSigma } from '../farmer/sampling-settings';
import type { FeatureNet } from '../metrics/features';
import { ValueError } from '../util/validate';
import type { RawParams } from './params';
import type { Experiment, ExperimentInputs, ImageInput, Params } from './types';

/**
 * The parameters a run uses: the raw values (missing ones take the defaults for `model`) with
 * `seed` set, parsed once. Throws ValueError for a bad value, an unknown key, or a seed given to
 * an experiment without one.
 */
export function resolveParams<P extends Params>(
  e: Experiment<P, unknown>,
  model: FarmerModel,
  raw: RawParams,
  seed?: number,
): P {
  if (seed === undefined) return e.params.parse(raw, model);
  if (!('seed' in e.params.specs)) throw new ValueError(`${e.id} takes no seed`);
  return e.params.parse({ ...raw, seed }, model);
}

/** Whether `e` takes a seed (the notebook's seed control and `--seed` set it). */
export function isSeeded(e: Experiment<Params, unknown>): boolean {
  return 'seed' in e.params.specs;
}

/** The dataset a model's card names, when experiments have its test split. */
export function datasetOf(card: Record<string, unknown>, modelName: string): DatasetName {
  const name = card.dataset;
  if (typeof name !== 'string' || !(name in datasets))
    throw new Error(
      `model ${modelName} was trained on ${typeof name === 'string' ? `"${name}"` : 'an unnamed dataset'}; experiments need one of ${Object.keys(datasets).join(', ')}`,
    );
  return name as DatasetName;
}

/** Where inputs come from: files in Node, fetches (cached per dataset) in the worker. */
export interface InputSources {
  testSet(dataset: DatasetName): Promise<LabelledSet>;
  featureNet(dataset: DatasetName): Promise<FeatureNet>;
  /** the zoo file a student's card names as its teacher, checked against the recorded sha256 */
  teacher(card: Record<string, unknown>): Promise<FarmerModel>;
}

/** What `e` reads besides the model: the teacher first (the slowest to fail), then the test split and the feature network. */
export async function gatherInputs(
  e: Experiment<Params, unknown>,
  dataset: DatasetName,
  card: Record<string, unknown>,
  sources: InputSources,
  image?: ImageInput,
): Promise<ExperimentInputs> {
  const teacher = e.needs.teacher ? await sources.teacher(card) : undefined;
  const testSet = await sources.testSet(dataset);
  const featureNet = e.needs.featureNet ? await sources.featureNet(dataset) : undefined;
  return { testSet, featureNet, teacher, image, sampling: cardSampling(card) };
}

/** The σ of the Tweedie step when `denoise` is on (the card's last training σ, else the schedule's end); null when off. */
export function denoiseSigma(model: FarmerModel, denoise: boolean, inputs: ExperimentInputs): number | null {
  return denoise ? finalSigma(model.config.dequantization, inputs.sampling) : null;
}
