// A whole FARMER model: log p(x) = log p(Z) + Σ_k logdet_k, NLL per dimension and bits per dim (Eq. 14).
import * as tf from '@tensorflow/tfjs';
import type { Dims, FarmerConfig } from './config';
import { dimsOf } from './config';
import type { Params } from '../nn/params';
import { patchify, unpatchify } from './patchify';
import { afForward, afInverse, type AfForward, type InverseOptions } from './af';
import { priorLogProb } from './prior';
import { studentInverse } from './distill';
import { checkLabels, nullLabels } from './labels';

export interface FarmerModel {
  config: FarmerConfig;
  params: Params;
  dims: Dims;
}

export function makeModel(config: FarmerConfig, params: Params): FarmerModel {
  return { config, params, dims: dimsOf(config) };
}

/** BPD = (L + ln 128)/ln 2 on the 8-bit scale, for uniformly dequantized [-1, 1] inputs (docs/model.md, "Likelihood and loss"). */
export function bitsPerDim(nllPerDim: number): number {
  return (nllPerDim + Math.log(128)) / Math.LN2;
}

function labelsFor(model: FarmerModel, labels: Int32Array | null | undefined, B: number): Int32Array {
  const y = labels ?? nullLabels(B);
  checkLabels(y, model.config.num_classes, B);
  return y;
}

function checkImages(model: FarmerModel, x: tf.Tensor): void {
  if (model.config.student)
    throw new Error(
      'a distilled student only maps latents to images; it has no likelihood (use its teacher for forward passes)',
    );
  const { height, width, channels } = model.config.image;
  const [, H, W, C] = x.shape;
  if (x.rank !== 4 || H !== height || W !== width || C !== channels)
    throw new Error(`images: expected [B, ${height}, ${width}, ${channels}], got [${x.shape.join(', ')}]`);
}

/** log p(x) = log p(Z) + Σ_k logdet_k and its logdet part, per image [B] each, differentiable. */
function logLikelihood(
  model: FarmerModel,
  x: tf.Tensor4D,
  labels?: Int32Array | null,
): { logPx: tf.Tensor1D; logdet: tf.Tensor1D } {
  checkImages(model, x);
  const y = labelsFor(model, labels, x.shape[0]);
  return tf.tidy(() => {
    const { z, logdet } = afForward(model.params, model.config, patchify(x, model.config.patch_size), { labels: y });
    const prior = priorLogProb(model.params, model.config, z, y);
    return { logPx: prior.logProb.add(logdet) as tf.Tensor1D, logdet };
  });
}

/** −log p(x)/(N·d) per image [B], differentiable (the training objective before the batch mean). */
export function nllPerDim(model: FarmerModel, x: tf.Tensor4D, labels?: Int32Array | null): tf.Tensor1D {
  return tf.tidy(() => logLikelihood(model, x, labels).logPx.neg().div(model.dims.pixels) as tf.Tensor1D);
}

export interface LossTerms {
  /** Eq. 14: the batch mean of −log p(x)/(N·d) */
  loss: tf.Scalar;
  /** the batch mean of Σ_k logdet_k/(N·d): the flow's share of −loss, for the training log */
  logdetPerDim: tf.Scalar;
}

/** The training loss with its logdet part; the caller disposes both. */
export function lossTerms(model: FarmerModel, x: tf.Tensor4D, labels?: Int32Array | null): LossTerms {
  return tf.tidy(() => {
    const { logPx, logdet } = logLikelihood(model, x, labels);
    const D = model.dims.pixels;
    return { loss: logPx.mean().neg().div(D) as tf.Scalar, logdetPerDim: logdet.mean().div(D) as tf.Scalar };
  });
}

/** Eq. 14: the batch mean of −log p(x)/(N·d). */
export function trainingLoss(model: FarmerModel, x: tf.Tensor4D, labels?: Int32Array | null): tf.Scalar {
  return tf.tidy(() => lossTerms(model, x, labels).loss);
}

/** The flow's outputs (latents, log-determinants) and the prior's, per image. */
export interface ForwardAnalysis extends AfForward {
  /** log p(Z) [B] */
  logPrior: tf.Tensor1D;
  /** its informative and redundant parts per token, [B, N] each in raster token order */
  logPriorInformative: tf.Tensor2D;
  logPriorRedundant: tf.Tensor2D;
  /** log p(x) [B] */
  logPx: tf.Tensor1D;
  /** [B] */
  nllPerDim: tf.Tensor1D;
}

/** Every per-image quantity of the forward pass; the caller disposes the result. */
export function analyzeForward(
  model: FarmerModel,
  x: tf.Tensor4D,
  labels?: Int32Array | null,
  keepLatents = false,
): ForwardAnalysis {
  checkImages(model, x);
  const y = labelsFor(model, labels, x.shape[0]);
  return tf.tidy(() => {
    const af = afForward(model.params, model.config, patchify(x, model.config.patch_size), { labels: y, keepLatents });
    const prior = priorLogProb(model.params, model.config, af.z, y);
    const logPx = prior.logProb.add(af.logdet) as tf.Tensor1D;
    return {
      ...af,
      logPrior: prior.logProb,
      logPriorInformative: prior.informativePerToken,
      logPriorRedundant: prior.redundantPerToken,
      logPx,
      nllPerDim: logPx.neg().div(model.dims.pixels) as tf.Tensor1D,
    };
  });
}

export function disposeAnalysis(a: ForwardAnalysis): void {
  tf.dispose([
    a.z,
    ...a.latents,
    a.logdet,
    a.logdetPerBlock,
    a.logdetPerToken,
    a.logPrior,
    a.logPriorInformative,
    a.logPriorRedundant,
    a.logPx,
    a.nllPerDim,
  ]);
}

/** Z [B, N, d] → images [B, H, W, C] in model space: the AF inverse, or one pass of a distilled student. */
export function decodeLatents(model: FarmerModel, z: tf.Tensor3D, opts: InverseOptions = {}): tf.Tensor4D {
  const x = model.config.student
    ? studentInverse(model.params, model.config, z, opts)
    : afInverse(model.params, model.config, z, opts);
  const { height, width, channels } = model.config.image;
  const img = unpatchify(x, model.config.patch_size, height, width, channels);
  x.dispose();
  return img;
}
