// The tensor work of the guidance experiment (Algorithm 1): samples at every (method, w) with the
// same seeds and labels, their features, FID, IS and class agreement; each row's first samples
// are encoded as one PNG strip here (in the worker), so the page only places it.
import type { FarmerModel } from '../../farmer/model';
import { keepFinite, sampleBatches } from '../../farmer/sample-batches';
import { chooseWidth } from '../../tf/batch-width';
import { samplingFootprint } from '../../farmer/footprint';
import { accuracy, type FeatureNet } from '../../metrics/features';
import { featureNetName } from '../../metrics/evaluate-model';
import type { GaussianStats } from '../../metrics/fid';
import { tileImages } from '../../plots/pixels';
import { denoiseSigma } from '../resolve';
import { referenceStats, scoreImages, scoringInputs } from '../scoring';
import { throwIfAborted, type ExperimentContext, type ExperimentInputs } from '../types';
import type { GuidanceParams } from './params';
import { checkModel, planRows, type GuidanceResult, type GuidanceRow, type RowMethod } from './result';

async function runRow(
  model: FarmerModel,
  net: FeatureNet,
  real: GaussianStats,
  p: GuidanceParams,
  setting: { method: RowMethod; w: number },
  sigma: number | null,
  onBatch: (count: number) => void,
  signal?: AbortSignal,
): Promise<GuidanceRow> {
  const t0 = performance.now();
  const K = model.config.num_classes,
    size = model.dims.pixels;
  const { height: H, width: W, channels: C } = model.config.image;
  const drawn = await sampleBatches(model, {
    n: p.n,
    batch: chooseWidth(p.n, p.batch, samplingFootprint(model.config, sigma !== null)),
    seed: p.seed,
    cfg: setting.method === 'none' ? undefined : { method: setting.method, w: setting.w },
    denoiseSigma: sigma,
    signal,
    onBatch: ({ count }) => onBatch(count),
  });
  throwIfAborted(signal);
  const all = drawn.pixels;
  const { pixels, rows: finiteRows } = keepFinite(all, drawn.finite);
  const finite = finiteRows.length,
    fallbacks = drawn.cfgFallbacks;
  const { fid, is, probs, classes } = await scoreImages(net, real, pixels, finite);
  const agree =
    finite > 0
      ? accuracy(
          probs,
          finiteRows.map((row) => row % K),
          classes,
        )
      : null;
  // the first `keep` samples whatever they hold, so a column asks for the same class in every row
  const kept = Math.min(p.keep, p.n);
  return {
    method: setting.method,
    w: setting.w,
    n: p.n,
    finite,
    nonFinite: p.n - finite,
    fid,
    is,
    accuracy: agree,
    fallbacks,
    guidedDims: setting.method === 'naive' ? p.n * model.dims.tokens * model.dims.tokenDim : 0,
    seconds: (performance.now() - t0) / 1000,
    kept,
    picture: kept > 0 ? tileImages(all.subarray(0, kept * size), kept, H, W, C, { gap: 1, border: true }) : null,
  };
}

export async function runGuidance(
  model: FarmerModel,
  inputs: ExperimentInputs,
  p: GuidanceParams,
  ctx: ExperimentContext = {},
): Promise<GuidanceResult> {
  checkModel(model);
  const { height, width, channels } = model.config.image;
  const { net, test } = scoringInputs(model, inputs, p.n, 'guidance');
  const [, headClasses] = Object.entries(net.classifier.spec.heads)[0];
  if (headClasses !== model.config.num_classes)
    throw new Error(
      `the feature network's first head has ${headClasses} classes; the model has ${model.config.num_classes}`,
    );

  const plan = planRows(p);
  const name = featureNetName(net);
  let result: GuidanceResult = {
    featureNet: name,
    fidLabel: `FID (${name} features, not Inception)`,
    isLabel: `IS (${name} class probabilities, not Inception)`,
    n: p.n,
    seed: p.seed,
    classes: model.config.num_classes,
    image: { height, width, channels },
    plan,
    rows: plan.map(() => null),
  };
  ctx.onPartial?.(result);

  // a guided sample runs the AR prior on twice the rows: count it twice
  const total = plan.reduce((a, q) => a + (q.method === 'none' ? 1 : 2), 0) * p.n;
  let done = 0;
  ctx.onProgress?.(0, total, 'test-image features');
  const real = await referenceStats(net, test, p.n);
  for (const [i, setting] of plan.entries()) {
    const weight = setting.method === 'none' ? 1 : 2;
    const label = setting.method === 'none' ? 'unguided' : `${setting.method} CFG, w = ${setting.w}`;
    const row = await runRow(
      model,
      net,
      real,
      p,
      setting,
      denoiseSigma(model, p.denoise, inputs),
      (count) => ctx.onProgress?.((done += weight * count), total, label),
      ctx.signal,
    );
    result = { ...result, rows: result.rows.map((q, j) => (j === i ? row : q)) };
    ctx.onPartial?.(result);
  }
  return result;
}
