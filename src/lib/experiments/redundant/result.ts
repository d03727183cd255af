// What the redundant-variance experiment (v2 Fig. 7) returns, and which rows it decodes.
import type { FarmerModel } from '../../farmer/model';
import type { PngImage } from '../../plots/pixels';

/** s_R = 1: the row every other row is compared with, drawn whether asked for or not. */
export const REFERENCE_SCALE = 1;

export interface ScaleRow {
  scale: number;
  /** per column: false when the image holds NaN or Inf */
  finite: boolean[];
  /** mean over the columns finite in both rows, against the same column at s_R = 1; null without any */
  ssim: number | null;
  edge: number | null;
  /** RGB distance on the reference's foreground (colour models only) */
  colour: number | null;
}

export interface RedundantResult {
  image: { height: number; width: number; channels: number };
  dims: { informative: number; redundant: number; tokenDim: number };
  /** class label of each column; −1 for the null label */
  labels: number[];
  n: number;
  /** s_R = 1, drawn whether asked for or not: what every row is compared with */
  reference: number;
  rows: ScaleRow[];
  /** uint8 [rows, n, H, W, C]; NaN/Inf pixels drawn 0 */
  pixels: Uint8Array;
  /** rows × columns of images, 1 px apart, as one PNG (encoded in the worker) */
  grid: PngImage;
}

export function checkModel(model: FarmerModel): void {
  if (model.config.prior.kind !== 'farmer')
    throw new Error(
      'the redundant-variance notebook needs a FARMER prior: a Gaussian prior (TARFlow) has no redundant group',
    );
}

/** The rows a run decodes: the asked scales plus the reference s_R = 1, ascending. */
export function rowScales(scales: readonly number[]): number[] {
  return [...new Set([...scales, REFERENCE_SCALE])].sort((a, b) => a - b);
}
