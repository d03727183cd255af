// Training loop of the one-step student (Algorithm 2, docs/model.md "One-step distillation"), shared by `farmer distill` and a
// browser worker: no Node APIs. Only the student's af.* weights train; the teacher (AF and AR
// prior) stays fixed. Step t draws its batch, dequantization noise, label dropout, s and ε from
// Rng(seed, t), so a resumed run continues exactly as the uninterrupted one. The state is a
// TrainState (src/lib/train/state-file.ts reads and writes it).
import * as tf from '@tensorflow/tfjs';
import type { FarmerConfig } from '../farmer/config';
import type { Params } from '../nn/params';
import type { FarmerModel } from '../farmer/model';
import { distillationLoss, initStudentParams, studentConfig } from '../farmer/distill';
import { updateEma } from './flat';
import { curveSummary } from './curve';
import { trainingSigma } from '../data/dequantize';
import { Rng } from '../util/random';
import { drawBatch, newTrainState, stepRng, type TrainingData, type TrainOptions, type TrainState } from './loop';
import { learningRate } from './schedule';
import { trainStep } from './step';

/** Fine-tuning defaults: the student starts at the teacher, so a small rate, no decay, no EMA. */
export const defaultDistillOptions: Omit<TrainOptions, 'steps'> = {
  batch: 32,
  seed: 0,
  lr: 3e-4,
  lrMin: 1e-5,
  warmup: 50,
  weightDecay: 0,
  clip: 1,
  ema: 0,
};

/** One line of the JSONL log. */
export interface DistillLog {
  step: number;
  /** (1/n)·Σ_k MSE(Z̃^k, Z^k) */
  loss: number;
  lr: number;
  grad_norm: number;
  images_per_s: number;
  /** the update was skipped because the loss or a gradient was not finite */
  skipped: boolean;
}

const isAf = (name: string) => name.startsWith('af.');

/** The student's trainable weights: copies of the teacher's af.* tensors. */
export function initialStudentAf(teacher: FarmerModel): Params {
  const all = initStudentParams(teacher.params);
  for (const [name, t] of all)
    if (!isAf(name)) {
      t.dispose();
      all.delete(name);
    }
  return all;
}

export function newDistillState(teacher: FarmerModel, o: TrainOptions): TrainState {
  const af = initialStudentAf(teacher);
  const state = newTrainState(af, o);
  for (const t of af.values()) t.dispose(); // newTrainState made variables (and EMA copies) of them
  return state;
}

/**
 * Step t's images in model space and labels. Gaussian-dequantized teachers see the noise level at
 * the end of their schedule (the data they were last trained on); labels only matter to a class-conditional AF.
 */
export function distillBatch(
  cfg: FarmerConfig,
  data: TrainingData,
  batch: number,
  rng: Rng,
): { x: Float32Array; labels: Int32Array | null } {
  const dq = cfg.dequantization;
  return drawBatch(
    cfg,
    data,
    batch,
    rng,
    dq.kind === 'gaussian' ? trainingSigma(dq, 1) : 0,
    cfg.af.class_conditional && cfg.num_classes > 0,
  );
}

/** One Algorithm 2 step with AdamW (and EMA when o.ema > 0); returns its log line. */
export async function distillOneStep(
  teacher: FarmerModel,
  state: TrainState,
  data: TrainingData,
  o: TrainOptions,
): Promise<DistillLog> {
  const t0 = performance.now();
  const t = state.step;
  const cfg = teacher.config;
  const rng = stepRng(o, t);
  const { x, labels } = distillBatch(cfg, data, o.batch, rng);
  const { height, width, channels } = cfg.image;
  const xb = tf.tensor4d(x, [o.batch, height, width, channels]);
  const lr = learningRate(o, t);
  const r = await trainStep(
    state.vars,
    () => distillationLoss(teacher, state.vars, xb, labels, rng),
    state.optimizer,
    lr,
    o.clip,
  );
  xb.dispose();
  if (r.applied && state.ema) {
    updateEma(state.ema, state.vars, o.ema);
  }
  if (!r.applied) state.skipped++;
  state.step++;
  const seconds = (performance.now() - t0) / 1000;
  state.timeS += seconds;
  return {
    step: state.step,
    loss: r.loss,
    lr,
    grad_norm: r.gradNorm,
    images_per_s: o.batch / seconds,
    skipped: !r.applied,
  };
}

/**
 * The student file's config and weights: the student's af.* (EMA when there is one) and the
 * teacher's ar.* prior, so the one file samples in one pass. Tensors are shared, not copied.
 */
export function studentModelParams(teacher: FarmerModel, state: TrainState): { config: FarmerConfig; params: Params } {
  const params: Params = new Map();
  for (const [n, t] of teacher.params) if (!isAf(n)) params.set(n, t);
  for (const [n, t] of state.ema ?? state.vars) params.set(n, t);
  return { config: studentConfig(teacher.config), params };
}

/** The distillation loss curve a card keeps (see curveSummary). */
export function lossCurve(lines: DistillLog[], points = 50): [number, number][] {
  return curveSummary(lines, (l) => l.loss, points);
}
