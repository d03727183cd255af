// What the guidance experiment (Algorithm 1, ablation Table 2) returns, and the settings a run
// samples: unguided once (w = 0), then each CFG method at each w > 0.
import type { FarmerModel } from '../../farmer/model';
import type { CfgMethod } from '../../farmer/sampling';
import type { PngImage } from '../../plots/pixels';

export type RowMethod = 'none' | CfgMethod;

export interface GuidanceRow {
  method: RowMethod;
  w: number;
  n: number;
  finite: number;
  nonFinite: number;
  /** over the finite samples; null with too few */
  fid: number | null;
  is: number | null;
  /** fraction of finite samples the feature network assigns to the asked class */
  accuracy: number | null;
  /** naive CFG: dimensions that fell back to the conditional draw, of `guidedDims` */
  fallbacks: number;
  guidedDims: number;
  seconds: number;
  /** finite samples kept, in label order, as one strip */
  kept: number;
  picture: PngImage | null;
}

export interface GuidanceResult {
  featureNet: string;
  fidLabel: string;
  isLabel: string;
  n: number;
  seed: number;
  classes: number;
  image: { height: number; width: number; channels: number };
  /** the planned settings in order; `rows[i]` is null until computed */
  plan: { method: RowMethod; w: number }[];
  rows: (GuidanceRow | null)[];
}

export function checkModel(model: FarmerModel): void {
  if (model.config.prior.kind !== 'farmer')
    throw new Error(
      'the guidance notebook needs a FARMER prior: classifier-free guidance acts on its GMM heads, and a Gaussian prior (TARFlow) has none',
    );
  if (model.config.num_classes === 0)
    throw new Error(
      'the guidance notebook needs a class-conditional model: this one has no class labels to guide towards',
    );
}

/** The settings a run samples: unguided once (when w = 0 is asked), then each method at each w > 0. */
export function planRows(p: { weights: number[]; methods: 'both' | CfgMethod }): { method: RowMethod; w: number }[] {
  const ws = p.weights;
  const methods: CfgMethod[] = p.methods === 'both' ? ['naive', 'resampling'] : [p.methods];
  return [
    ...(ws.includes(0) ? [{ method: 'none' as const, w: 0 }] : []),
    ...methods.flatMap((method) => ws.filter((w) => w > 0).map((w) => ({ method, w }))),
  ];
}

export function rowName(q: { method: RowMethod; w: number }): string {
  return q.method === 'none' ? 'unguided' : `${q.method} w = ${q.w}`;
}
