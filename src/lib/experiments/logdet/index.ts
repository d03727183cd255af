// Logdet outliers (supplementary Fig. 9): per-image log|det ∂Z/∂X| of test images and of samples,
// per block and per token, the outliers by a robust rule, and how logdet relates to sharpness
// (variance of the Laplacian). The paper's claim: samples with outlying (large) logdet look
// blurred, which predicts a negative rank correlation between logdet and sharpness.
// The tensor work lives in run.ts, imported by `run` only, so the page's main thread never loads
// TensorFlow.js for this module.
import type { Experiment } from '../types';
import { describeRule, type OutlierRule } from '../../metrics/robust';
import { logdetFigures } from './figures';
import { logdetParams, type LogdetParams } from './params';
import { PREDICTION, describeCorrelation } from './reading';
import { galleryOrder, heatmapValues, type LogdetResult, type Source } from './result';

export type { LogdetParams, LogdetResult };

function ruleJSON(rule: OutlierRule | null) {
  return (
    rule && {
      median: rule.median,
      mad: rule.mad,
      scale: rule.scale,
      scale_kind: rule.scaleKind,
      lower: rule.lower,
      upper: rule.upper,
    }
  );
}

function heatmapJSON(r: LogdetResult, source: Source, image: 'mean' | number) {
  return {
    total: Array.from(heatmapValues(r, { source, image, block: 'total' })),
    per_block: Array.from({ length: r.blocks }, (_, k) => Array.from(heatmapValues(r, { source, image, block: k }))),
  };
}

function toJSON(r: LogdetResult, p: LogdetParams): unknown {
  const rule = r.test.rule ?? r.samples.rule;
  const first = galleryOrder(r.samples.points)[0];
  return {
    experiment: 'logdet',
    params: p,
    image: r.image,
    grid: r.grid,
    rule: {
      text: rule ? describeRule(rule) : `modified z-score (Iglewicz–Hoaglin), outlier when |M| > ${p.threshold}`,
      threshold: p.threshold,
      fitted_per_source: true,
      test: ruleJSON(r.test.rule),
      samples: ruleJSON(r.samples.rule),
    },
    images: [...r.test.points, ...r.samples.points].map((q) => ({
      source: q.source,
      index: q.index,
      label: q.label,
      logdet: q.logdet,
      per_block: q.perBlock,
      laplacian_var: q.laplacianVar,
      modified_z: q.z,
      outlier: q.outlier,
    })),
    non_finite_samples: r.samples.nonFinite,
    correlations: {
      prediction: PREDICTION,
      test: {
        spearman: r.test.spearman.rho,
        n: r.test.spearman.n,
        p: r.test.spearman.p,
        text: describeCorrelation(r.test.spearman, 'test images'),
      },
      samples: {
        spearman: r.samples.spearman.rho,
        n: r.samples.spearman.n,
        p: r.samples.spearman.p,
        text: describeCorrelation(r.samples.spearman, 'samples'),
      },
    },
    heatmaps: {
      order: 'raster over the rows × cols patch grid; nats per token',
      test_mean: heatmapJSON(r, 'test', 'mean'),
      samples_mean: heatmapJSON(r, 'sample', 'mean'),
      ...(first && {
        first_gallery_sample: {
          index: first.index,
          outlier: first.outlier,
          ...heatmapJSON(r, 'sample', r.samples.points.indexOf(first)),
        },
      }),
    },
  };
}

export const experiment: Experiment<LogdetParams, LogdetResult> = {
  id: 'logdet',
  title: 'Logdet outliers',
  params: logdetParams,
  needs: { featureNet: false, teacher: false },

  cost(p, model) {
    const { tokens: N } = model.dims;
    const n = model.config.af.blocks;
    return {
      units: p.nTest + p.nSamples * N,
      description:
        `${p.nTest} test images through the forward pass; ${p.nSamples} samples, each ${N} sequential AR steps ` +
        `and ${n} AF inverse blocks of ${N} sequential token steps, then the forward pass`,
    };
  },

  async run(model, inputs, p, ctx) {
    const { runLogdet } = await import('./run');
    return runLogdet(model, inputs, p, ctx);
  },

  toJSON,
  figures: logdetFigures,

  thumbnail: {
    figure: 'logdet-histogram',
    params: { nTest: '128', nSamples: '16' },
    seed: 0,
    alt: "Histogram of the flow's log-determinant for test images and samples, with the outlier thresholds marked.",
  },
};
