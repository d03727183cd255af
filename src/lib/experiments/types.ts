// The shape every notebook experiment shares, so the worker (browser) and `farmer reproduce`
// (Node) run the same code and get the same numbers for the same seed.
import type { FarmerModel } from '../farmer/model';
import type { LabelledSet } from '../data/binfile';
import type { FeatureNet } from '../metrics/features';
import type { CardSampling } from '../farmer/sampling-settings';
import type { ExperimentId } from './catalog';
import type { ParamSet, ParamValue } from './params';

export type { ExperimentId };

/** An image given by the user (uploaded or drawn), already at the model's input size. */
export interface ImageInput {
  /** uint8 [height, width, channels], row-major */
  pixels: Uint8Array;
  height: number;
  width: number;
  channels: number;
  /** class label for a class-conditional model; absent: the null label */
  label?: number;
}

/** What an experiment may read besides the model. */
export interface ExperimentInputs {
  /** the model's dataset, test split */
  testSet: LabelledSet;
  /** the dataset's feature network, for FID/IS; present when the experiment `needs` it */
  featureNet?: FeatureNet;
  /** the teacher of a distilled student, checked against the sha256 in the student's card; present when the experiment `needs` it */
  teacher?: FarmerModel;
  /** an uploaded or drawn image, when the page passes one (otherwise pick from `testSet`) */
  image?: ImageInput;
  /** the model card's sampling block (its recommended settings and the σ of its last training step) */
  sampling?: CardSampling;
}

export interface ExperimentContext {
  /** steps done of total, for a progress bar with ETA */
  onProgress?: (done: number, total: number, label?: string) => void;
  /** partial results as they arrive (e.g. a grid filling cell by cell); an R so far */
  onPartial?: (partial: unknown) => void;
  /** checked between steps; an aborted run throws an AbortError */
  signal?: AbortSignal;
}

/** A named figure: an SVG (Observable Plot or plain) or an HTML figure wrapping one. */
export interface Figure {
  name: string;
  node: SVGElement | HTMLElement;
}

/** What a run costs, shown before an expensive run: `units` for comparisons, words for people. */
export interface Cost {
  units: number;
  description: string;
}

/** The home page's picture of a notebook, made by scripts/make-thumbnails.ts through `farmer reproduce`. */
export interface ThumbnailPlan {
  /** the figure's name in figures() */
  figure: string;
  /** what it shows, for people who cannot see it */
  alt: string;
  /** small parameters, as `--param key=value` */
  params: Record<string, string>;
  seed: number;
  /** the zoo model, when not the one the script is given (an experiment that needs a student) */
  model?: string;
}

export type Params = Record<string, ParamValue>;

/**
 * One experiment. `P` is its parsed parameters (numbers, strings, booleans and number lists, so
 * they fit in a URL and a cache key); `R` its result (JSON-serialisable; typed arrays allowed).
 */
export interface Experiment<P extends Params, R> {
  id: ExperimentId;
  title: string;
  /** the parameters: specs, defaults for a model, the one parse */
  params: ParamSet<P>;
  /** what `run` reads besides the model and the test split */
  needs: { featureNet: boolean; teacher: boolean };
  cost(p: P, model: FarmerModel): Cost;
  run(model: FarmerModel, inputs: ExperimentInputs, p: P, ctx?: ExperimentContext): Promise<R>;
  /** the figure data as exported (JSON) */
  toJSON(r: R, p: P): unknown;
  /**
   * The figures, built in `doc` (a browser document or jsdom's), one per step of the iteration
   * (a generator): the page builds a few per task, so drawing a slow set never blocks it for
   * long. `[...experiment.figures(r, p, doc)]` for all at once.
   */
  figures(r: R, p: P, doc: Document): Iterable<Figure>;
  thumbnail: ThumbnailPlan;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyExperiment = Experiment<any, any>;

export { throwIfAborted } from '../util/abort';
