// The training loop of Eq. 14, shared by `farmer train` and (later) a browser worker: no Node
// APIs here. Batches, dequantization noise and label dropout of step t all come from
// Rng(seed, t), so a run resumed from a checkpoint continues exactly as the uninterrupted one.
import * as tf from '@tensorflow/tfjs';
import type { FarmerConfig } from '../farmer/config';
import type { Params } from '../nn/params';
import { bitsPerDim } from '../farmer/model';
import { dropLabels } from '../farmer/labels';
import { updateEma } from './flat';
import { dequantizeGaussian, dequantizeUniform, trainingSigma } from '../data/dequantize';
import { Rng } from '../util/random';
import { AdamW } from './adamw';
import { learningRate, type Schedule } from './schedule';
import { applyGradients, toVariables, type StepResult } from './step';
import {
  combineShards,
  flatWeights,
  lossGradients,
  shardGradients,
  shardSizes,
  splitBatch,
  type GradientHelpers,
} from './data-parallel';

export interface TrainOptions extends Schedule {
  batch: number;
  seed: number;
  weightDecay: number;
  /** global gradient-norm clip, 0 = off */
  clip: number;
  /** EMA decay of the weights, 0 = no EMA */
  ema: number;
}

export const defaultTrainOptions: Omit<TrainOptions, 'steps'> = {
  batch: 32,
  seed: 0,
  lr: 1e-3,
  lrMin: 1e-5,
  warmup: 200,
  weightDecay: 0.03,
  clip: 1,
  ema: 0.999,
};

/** Images in uint8 [n, H, W, C] with labels [n]. */
export interface TrainingData {
  n: number;
  images: Uint8Array;
  labels: Uint8Array | Int32Array;
}

/** One line of the JSONL log. */
export interface StepLog {
  step: number;
  loss: number;
  nll_per_dim: number;
  logdet_per_dim: number;
  bpd: number;
  lr: number;
  grad_norm: number;
  images_per_s: number;
  /** the update was skipped because the loss or a gradient was not finite */
  skipped: boolean;
}

/** Everything a resumed run needs: weights, AdamW moments, EMA, the step count. */
export interface TrainState {
  step: number;
  /** wall-clock seconds spent so far */
  timeS: number;
  skipped: number;
  vars: Map<string, tf.Variable>;
  optimizer: AdamW;
  ema: Map<string, tf.Tensor> | null;
}

export function newTrainState(params: Params, o: TrainOptions): TrainState {
  const vars = toVariables(params);
  return {
    step: 0,
    timeS: 0,
    skipped: 0,
    vars,
    optimizer: new AdamW({ beta1: 0.9, beta2: 0.95, weightDecay: o.weightDecay }),
    ema: o.ema > 0 ? new Map([...vars].map(([n, v]) => [n, tf.keep(v.clone())])) : null,
  };
}

export function disposeTrainState(s: TrainState): void {
  s.optimizer.dispose();
  for (const v of s.vars.values()) v.dispose();
  if (s.ema) for (const t of s.ema.values()) t.dispose();
}

/** The generator of step t: everything random in the step comes from it, so a resumed run repeats the uninterrupted one. */
export function stepRng(o: Pick<TrainOptions, 'seed'>, t: number): Rng {
  return new Rng((o.seed * 1_000_003 + t) >>> 0);
}

/**
 * `batch` training images drawn with replacement, in model space (gaussian dequantization at
 * noise level `sigma`), and their labels after label dropout (null when `withLabels` is false),
 * all from `rng` in that order.
 */
export function drawBatch(
  cfg: FarmerConfig,
  data: TrainingData,
  batch: number,
  rng: Rng,
  sigma: number,
  withLabels: boolean,
): { x: Float32Array; labels: Int32Array | null } {
  const { height, width, channels } = cfg.image;
  const D = height * width * channels;
  const pixels = new Uint8Array(batch * D);
  const labels = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const i = rng.int(data.n);
    pixels.set(data.images.subarray(i * D, (i + 1) * D), b * D);
    labels[b] = data.labels[i];
  }
  const x =
    cfg.dequantization.kind === 'uniform' ? dequantizeUniform(pixels, rng) : dequantizeGaussian(pixels, sigma, rng);
  return { x, labels: withLabels ? dropLabels(labels, cfg.label_dropout, rng) : null };
}

/** The batch of step t: model-space inputs at the schedule's noise level and (dropped-out) labels. */
export function batchAt(
  cfg: FarmerConfig,
  data: TrainingData,
  o: TrainOptions,
  t: number,
): { x: Float32Array; labels: Int32Array | null } {
  const dq = cfg.dequantization;
  const sigma = dq.kind === 'gaussian' ? trainingSigma(dq, t / o.steps) : 0;
  return drawBatch(cfg, data, o.batch, stepRng(o, t), sigma, cfg.num_classes > 0);
}

/**
 * EMA decay at step t, warmed up as min(decay, (1 + t)/(10 + t)): without the warm-up the
 * average keeps decay^t of the initial weights (20 % after 1600 steps at 0.999).
 */
export function emaDecay(decay: number, t: number): number {
  return Math.min(decay, (1 + t) / (10 + t));
}

/**
 * One step of Eq. 14 on batch t, with EMA; returns its log line. With `helpers`, the batch is cut
 * into 1 + helpers.count shards: this thread computes the first while the helpers compute the
 * rest on copies of the current weights, and the averaged gradient is applied here
 * (data-parallel.ts). The batch, and so the run, is the same either way.
 */
export async function trainOneStep(
  cfg: FarmerConfig,
  state: TrainState,
  data: TrainingData,
  o: TrainOptions,
  helpers?: GradientHelpers,
): Promise<StepLog> {
  const t0 = performance.now();
  const t = state.step;
  const { x, labels } = batchAt(cfg, data, o, t);
  const lr = learningRate(o, t);
  const { r, logdetPerDim } =
    helpers && helpers.count > 0
      ? await parallelStep(cfg, state, x, labels, o, lr, helpers)
      : await singleStep(cfg, state, x, labels, o, lr);
  if (r.applied && state.ema) {
    updateEma(state.ema, state.vars, emaDecay(o.ema, t));
  }
  if (!r.applied) state.skipped++;
  state.step++;
  const seconds = (performance.now() - t0) / 1000;
  state.timeS += seconds;
  return {
    step: state.step,
    loss: r.loss,
    nll_per_dim: r.loss,
    logdet_per_dim: logdetPerDim,
    bpd: bitsPerDim(r.loss),
    lr,
    grad_norm: r.gradNorm,
    images_per_s: o.batch / seconds,
    skipped: !r.applied,
  };
}

async function singleStep(
  cfg: FarmerConfig,
  state: TrainState,
  x: Float32Array,
  labels: Int32Array | null,
  o: TrainOptions,
  lr: number,
): Promise<{ r: StepResult; logdetPerDim: number }> {
  const { value, grads, logdetPerDim } = lossGradients(cfg, state.vars, x, labels, o.batch);
  const r = await applyGradients(state.vars, grads, value, state.optimizer, lr, o.clip);
  const logdet = (await logdetPerDim.data())[0];
  tf.dispose([value, logdetPerDim, ...grads.values()]);
  return { r, logdetPerDim: logdet };
}

async function parallelStep(
  cfg: FarmerConfig,
  state: TrainState,
  x: Float32Array,
  labels: Int32Array | null,
  o: TrainOptions,
  lr: number,
  helpers: GradientHelpers,
): Promise<{ r: StepResult; logdetPerDim: number }> {
  const { height, width, channels } = cfg.image;
  const [own, ...rest] = splitBatch(x, labels, shardSizes(o.batch, 1 + helpers.count), height * width * channels);
  const theirs = helpers.gradients(flatWeights(state.vars), rest); // posted before this thread computes its own
  const mine = await shardGradients(cfg, state.vars, own);
  const { loss, logdetPerDim, grads } = combineShards(state.vars, [mine, ...(await theirs)]);
  const r = await applyGradients(state.vars, grads, loss, state.optimizer, lr, o.clip);
  for (const g of grads.values()) g.dispose();
  return { r, logdetPerDim };
}

/** The weights to ship: the EMA when there is one. */
export function exportParams(state: TrainState): Params {
  return new Map([...(state.ema ?? state.vars)].map(([n, t]) => [n, t as tf.Tensor]));
}
