// The tensor work of the sensitivity experiment (suppl. Fig. 7, Table 5): sampling at every (T, s)
// point and the Table 5 settings, features of samples and test images, FID and IS; each point's
// kept samples are encoded as PNGs here (in the worker), so the page only places them.
import type { FarmerModel } from '../../farmer/model';
import { keepFinite, sampleBatches } from '../../farmer/sample-batches';
import { chooseWidth } from '../../tf/batch-width';
import { samplingFootprint } from '../../farmer/footprint';
import { TABLE6_W, type ResamplingParams } from '../../farmer/guidance-preset';
import type { FeatureNet } from '../../metrics/features';
import { featureNetName } from '../../metrics/evaluate-model';
import type { GaussianStats } from '../../metrics/fid';
import { bytesToBase64 } from '../../plots/pixels';
import { throwIfAborted, type ExperimentContext, type ExperimentInputs } from '../types';
import { denoiseSigma } from '../resolve';
import { referenceStats, scoreImages, scoringInputs } from '../scoring';
import type { SensitivityParams } from './params';
import {
  DECOUPLED_POINT,
  DEFAULT_POINT,
  applyPartial,
  cfgAvailable,
  cfgParams,
  findCell,
  pointSeed,
  runPlan,
  samplePictures,
  type PointMetrics,
  type SensitivityCell,
  type SensitivityPartial,
  type SensitivityResult,
  type Table5,
  type Table5Entry,
} from './result';

interface RunSpec {
  T: number;
  s: number;
  cfg: ResamplingParams | null;
  /** σ of the Tweedie step; null: no denoising */
  sigma: number | null;
}

interface RunOutput extends PointMetrics {
  /** finite samples, uint8 [finite, H, W, C] */
  pixels: Uint8Array;
}

/** Draws n samples at one setting in batches, scores the finite ones. */
async function runPoint(
  model: FarmerModel,
  net: FeatureNet,
  real: GaussianStats,
  p: SensitivityParams,
  spec: RunSpec,
  onBatch: (count: number) => void,
  signal?: AbortSignal,
): Promise<RunOutput> {
  const t0 = performance.now();
  const seed = pointSeed(p.seed, spec.T, spec.s, spec.cfg !== null);
  const drawn = await sampleBatches(model, {
    n: p.n,
    batch: chooseWidth(p.n, p.batch, samplingFootprint(model.config, spec.sigma !== null)),
    seed,
    T: spec.T,
    s: spec.s,
    cfg: spec.cfg ? { method: 'resampling', w: TABLE6_W, params: spec.cfg } : undefined,
    denoiseSigma: spec.sigma,
    signal,
    onBatch: ({ count }) => onBatch(count),
  });
  throwIfAborted(signal);
  const { pixels, rows } = keepFinite(drawn.pixels, drawn.finite);
  const finite = rows.length;
  const { fid, is } = await scoreImages(net, real, pixels, finite);
  return { fid, is, n: p.n, finite, nonFinite: p.n - finite, seed, seconds: (performance.now() - t0) / 1000, pixels };
}

function metricsOf(o: PointMetrics): PointMetrics {
  return { fid: o.fid, is: o.is, n: o.n, finite: o.finite, nonFinite: o.nonFinite, seed: o.seed, seconds: o.seconds };
}

export async function runSensitivity(
  model: FarmerModel,
  inputs: ExperimentInputs,
  p: SensitivityParams,
  ctx: ExperimentContext = {},
): Promise<SensitivityResult> {
  const { signal } = ctx;
  const { height, width, channels } = model.config.image;
  const { net, test } = scoringInputs(model, inputs, p.n, 'sensitivity');
  const { T, s } = p;
  const sigma = denoiseSigma(model, p.denoise, inputs);
  const plan = runPlan(p, model);
  const C = model.config.num_classes,
    size = model.dims.pixels;
  const name = featureNetName(net);

  const notes: string[] = [];
  if (model.config.prior.kind === 'gaussian')
    notes.push('Gaussian prior: the mixture temperature T has no effect, only s (the latent standard deviation).');
  const cfgOk = cfgAvailable(model);
  const table5: Table5 | null = p.table5
    ? {
        rows: [
          { setting: 'default', ...DEFAULT_POINT, unguided: null, guided: null },
          { setting: 'decoupled', ...DECOUPLED_POINT, unguided: null, guided: null },
        ],
        cfgAvailable: cfgOk,
        note: cfgOk
          ? `resampling CFG, w = ${TABLE6_W}, Table 6 preset with the row's T and s folded into the proposal (T_π = 1/T, T_σ = 0.9·s; ours), labels cycling 0..${C - 1}`
          : model.config.num_classes === 0
            ? 'unconditional model: classifier-free guidance needs class labels, so only the unguided column is shown'
            : 'Gaussian prior: classifier-free guidance needs the GMM prior, so only the unguided column is shown',
      }
    : null;
  let result: SensitivityResult = {
    T,
    s,
    n: p.n,
    seed: p.seed,
    featureNet: name,
    fidLabel: `FID (${name} features, not Inception)`,
    isLabel: `IS (${name} class probabilities, not Inception)`,
    image: { height, width, channels },
    labels: C > 0 ? `cycling 0..${C - 1}` : 'null',
    cells: T.flatMap(() => s.map(() => null)),
    table5,
    notes,
  };
  // The page draws each partial result as it is: send the whole result so far every time.
  const emit = (partial: SensitivityPartial) => {
    result = applyPartial(result, partial);
    ctx.onPartial?.(result);
  };
  emit({ kind: 'start', result });

  const total = (plan.grid + plan.extraUnguided + 2 * plan.guided) * p.n;
  let done = 0;
  const progress =
    (label: string, weight = 1) =>
    (count: number) => {
      done += weight * count;
      ctx.onProgress?.(done, total, label);
    };
  ctx.onProgress?.(0, total, 'test-image features');
  const real = await referenceStats(net, test, p.n);

  for (let iT = 0; iT < T.length; iT++)
    for (let iS = 0; iS < s.length; iS++) {
      const out = await runPoint(
        model,
        net,
        real,
        p,
        { T: T[iT], s: s[iS], cfg: null, sigma },
        progress(`T = ${T[iT]}, s = ${s[iS]}`),
        signal,
      );
      const keep = Math.min(p.keep, out.finite);
      const kept = out.pixels.subarray(0, keep * size);
      const cell: SensitivityCell = {
        T: T[iT],
        s: s[iS],
        ...metricsOf(out),
        kept: keep,
        samples: bytesToBase64(kept),
        pictures: samplePictures(kept, keep, result.image),
      };
      emit({ kind: 'cell', index: iT * s.length + iS, cell });
    }

  if (table5)
    for (let row = 0; row < table5.rows.length; row++) {
      const { T: rT, s: rS, setting } = table5.rows[row];
      const at = findCell(result, rT, rS);
      let unguided: Table5Entry;
      if (at >= 0) unguided = { ...metricsOf(result.cells[at]!), cfg: null, fromGrid: true };
      else {
        const out = await runPoint(
          model,
          net,
          real,
          p,
          { T: rT, s: rS, cfg: null, sigma },
          progress(`Table 5, ${setting}, unguided`),
          signal,
        );
        unguided = { ...metricsOf(out), cfg: null, fromGrid: false };
      }
      emit({ kind: 'table5', row, column: 'unguided', entry: unguided });
      if (!cfgOk) continue;
      const params = cfgParams(rT, rS);
      const out = await runPoint(
        model,
        net,
        real,
        p,
        { T: rT, s: rS, cfg: params, sigma },
        progress(`Table 5, ${setting}, CFG`, 2),
        signal,
      );
      emit({
        kind: 'table5',
        row,
        column: 'guided',
        entry: { ...metricsOf(out), cfg: { method: 'resampling', w: TABLE6_W, params }, fromGrid: false },
      });
    }
  const bad = result.cells.reduce((a, c) => a + (c?.nonFinite ?? 0), 0);
  if (bad > 0)
    result = {
      ...result,
      notes: [
        ...result.notes,
        `${bad} of ${plan.grid * p.n} grid samples held NaN or Inf and were left out of FID and IS (counted per cell).`,
      ],
    };
  return result;
}
