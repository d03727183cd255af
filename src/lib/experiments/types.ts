// The shape every notebook experiment shares, so the worker (browser) and `farmer reproduce`
// (Node) run the same code and get the same numbers for the same seed.
import type { FarmerModel } from '../farmer/model';
import type { LabelledSet } from '../data/binfile';
import type { FeatureNet } from '../metrics/features';

export type ExperimentId = 'separation' | 'logdet' | 'sensitivity' | 'likelihood' | 'redundant' | 'guidance' | 'distill';

/** Every experiment id, in the order the index page lists them. */
export const experimentIds = ['separation', 'logdet', 'sensitivity', 'likelihood', 'redundant', 'guidance', 'distill'] as const satisfies readonly ExperimentId[];

export function isExperimentId(v: unknown): v is ExperimentId {
  return typeof v === 'string' && (experimentIds as readonly string[]).includes(v);
}

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
  /** the dataset's feature network, for FID/IS (sensitivity); present when the registry says the experiment needs it */
  featureNet?: FeatureNet;
  /** the teacher of a distilled student, checked against the sha256 in the student's card; present when the registry says the experiment needs it */
  teacher?: FarmerModel;
  /** an uploaded or drawn image, when the page passes one (otherwise pick from `testSet`) */
  image?: ImageInput;
}

export interface ExperimentContext {
  /** steps done of total, for a progress bar with ETA */
  onProgress?: (done: number, total: number, label?: string) => void;
  /** partial results as they arrive (e.g. a grid filling cell by cell); JSON-serialisable */
  onPartial?: (partial: unknown) => void;
  /** checked between steps; an aborted run throws an AbortError */
  signal?: AbortSignal;
}

/** A named figure: an SVG (Observable Plot) or an HTML figure wrapping one. */
export interface Figure {
  name: string;
  node: SVGElement | HTMLElement;
}

/**
 * One experiment. `P` is its parameter object (numbers, strings, booleans only, so it fits in a
 * URL and a cache key); `R` its result (JSON-serialisable; typed arrays allowed).
 */
export interface Experiment<P extends Record<string, number | string | boolean>, R> {
  id: ExperimentId;
  title: string;
  /** parameters for this model; every field present */
  defaults(model: FarmerModel): P;
  /** checks and normalises raw values (URL, CLI); throws Error(`invalid ${name}: …`) */
  parseParams(raw: Record<string, unknown>, model: FarmerModel): P;
  /** what a run costs, shown before an expensive run: `units` for comparisons, words for people */
  cost(p: P, model: FarmerModel): { units: number; description: string };
  run(model: FarmerModel, inputs: ExperimentInputs, p: P, ctx?: ExperimentContext): Promise<R>;
  /** the figure data as exported (JSON) */
  toJSON(r: R, p: P): unknown;
  /**
   * The figures, built with Observable Plot in `doc` (a browser document or jsdom's), one per
   * step of the iteration (a generator): the page builds a few per task, so drawing a slow set
   * never blocks it for long. `[...experiment.figures(r, p, doc)]` for all at once.
   */
  figures(r: R, p: P, doc: Document): Iterable<Figure>;
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
}
