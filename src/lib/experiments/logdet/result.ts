// What the logdet experiment (suppl. Fig. 9) returns, and the pure reads of it that the figures,
// the reading and the page share: per-token maps and the gallery's order.
import type { FarmerModel } from '../../farmer/model';
import type { Correlation } from '../../metrics/rank';
import type { OutlierRule } from '../../metrics/robust';

export type Source = 'test' | 'sample';

/** One image's numbers; `index` is its row in its source's `pixels` (and its test-set index or sample number). */
export interface ImagePoint {
  source: Source;
  index: number;
  /** class label; −1 for the null label */
  label: number;
  /** Σ_k logdet_k in nats */
  logdet: number;
  /** [n blocks] in nats */
  perBlock: number[];
  /** variance of the 3×3 Laplacian of the shown uint8 image's luminance */
  laplacianVar: number;
  /** modified z-score of logdet within its source */
  z: number;
  outlier: boolean;
}

export interface SourceResult {
  source: Source;
  /** images asked for (rows of `pixels`) */
  requested: number;
  /** the shown images, uint8 [requested, H, W, C]; samples mapped back by the inverse of the model's dequantization, clipped */
  pixels: Uint8Array;
  /** row i of `pixels` as a PNG data URL (encoded in the worker, so figures stay cheap) */
  thumbnails: string[];
  /** finite images, in index order */
  points: ImagePoint[];
  /** per-token logdet of each point, [points.length, blocks, tokens], raster token order */
  perToken: Float32Array;
  /** sample numbers whose pixels or logdet are NaN/Inf: excluded from every statistic */
  nonFinite: number[];
  /** the outlier rule fitted to this source's logdets; null without points */
  rule: OutlierRule | null;
  /** Spearman ρ of (logdet, variance of the Laplacian) */
  spearman: Correlation;
}

export interface LogdetResult {
  image: { height: number; width: number; channels: number };
  /** tokens lie on a rows × cols patch grid */
  grid: { rows: number; cols: number };
  blocks: number;
  tokens: number;
  test: SourceResult;
  samples: SourceResult;
}

export function checkModel(model: FarmerModel): void {
  if (model.config.student)
    throw new Error(
      'the logdet notebook needs a model with a forward pass; a distilled student has none (use its teacher)',
    );
}

/** Which heatmap: the mean over a source's images or one image (by its point position), one block or the total. */
export interface HeatmapChoice {
  source: Source;
  /** 'mean', or the position of the image in `points` */
  image: 'mean' | number;
  /** 'total' (Σ over blocks) or a block number */
  block: 'total' | number;
}

/** Per-token logdet [tokens] in raster order for a choice; empty when the source has no points. */
export function heatmapValues(r: LogdetResult, c: HeatmapChoice): Float64Array {
  const src = c.source === 'test' ? r.test : r.samples;
  const { blocks: n, tokens: N } = r;
  const out = new Float64Array(N);
  const images = c.image === 'mean' ? src.points.map((_, i) => i) : [c.image];
  if (images.length === 0) return new Float64Array(0);
  for (const i of images) {
    if (!(i >= 0 && i < src.points.length))
      throw new Error(`invalid image: ${i} (the ${c.source} set has ${src.points.length} finite images)`);
    for (let k = 0; k < n; k++) {
      if (c.block !== 'total' && c.block !== k) continue;
      const o = (i * n + k) * N;
      for (let t = 0; t < N; t++) out[t] += src.perToken[o + t];
    }
  }
  for (let t = 0; t < N; t++) out[t] /= images.length;
  return out;
}

/** Points sorted for the gallery: outliers first, each group by logdet, largest first. */
export function galleryOrder(points: readonly ImagePoint[]): ImagePoint[] {
  return [...points].sort((a, b) => Number(b.outlier) - Number(a.outlier) || b.logdet - a.logdet || a.index - b.index);
}
