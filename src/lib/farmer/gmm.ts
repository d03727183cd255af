// Diagonal Gaussian-mixture heads (docs/model.md, "GMM heads"): parameter layout, log-density, and draws with
// mixture temperature T and Gaussian scale s (supplementary §7).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/random';
import type { Params } from '../nn/params';
import { linearSplit } from '../nn/layers';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
export const SIGMA_FLOOR = 1e-6;

/**
 * square_plus(r) = (r + √(r² + 4))/2, evaluated as 2/(√(r² + 4) − r) for r < 0. Each branch
 * sees only its own sign of r, and the other branch is then exactly 1, so the product is exact
 * and its gradient has no NaN from an unused branch.
 */
export function squarePlus(r: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const pos = tf.relu(r);
    const neg = tf.minimum(r, 0);
    const forPos = pos.add(pos.square().add(4).sqrt()).div(2);
    const forNeg = tf.scalar(2).div(neg.square().add(4).sqrt().sub(neg));
    return forPos.mul(forNeg);
  });
}

export function squarePlusScalar(r: number): number {
  return r >= 0 ? (r + Math.sqrt(r * r + 4)) / 2 : 2 / (Math.sqrt(r * r + 4) - r);
}

export interface GmmTensors {
  /** [..., K] */
  logits: tf.Tensor;
  /** [..., K, d] */
  means: tf.Tensor;
  /** [..., K, d], σ = max(square_plus(raw), 1e-6) */
  sigmas: tf.Tensor;
}

/** Head output [..., K(1 + 2d)] laid out [logits K | means K·d | raw K·d], component-major. */
export function splitGmm(out: tf.Tensor, K: number, d: number): GmmTensors {
  return tf.tidy(() => {
    const lead = out.shape.slice(0, -1);
    const [logits, means, raw] = tf.split(out, [K, K * d, K * d], -1);
    return {
      logits,
      means: means.reshape([...lead, K, d]),
      sigmas: tf.maximum(squarePlus(raw), SIGMA_FLOOR).reshape([...lead, K, d]),
    };
  });
}

/** The GMM head `name` applied to h [..., W]: the three fields as separate matMuls (see linearSplit). */
export function gmmHead(params: Params, name: string, h: tf.Tensor, K: number, d: number): GmmTensors {
  return tf.tidy(() => {
    const lead = h.shape.slice(0, -1);
    const [logits, means, raw] = linearSplit(params, name, h, [K, K * d, K * d]);
    return {
      logits,
      means: means.reshape([...lead, K, d]),
      sigmas: tf.maximum(squarePlus(raw), SIGMA_FLOOR).reshape([...lead, K, d]),
    };
  });
}

/**
 * log G(z) = logsumexp_k [log_softmax(logits)_k + Σ_j (−½((z_j − μ_kj)/σ_kj)² − log σ_kj − ½ log 2π)];
 * z [..., d] against a mixture [..., K, d] (leading dims broadcast) → [...].
 */
export function gmmLogDensity(g: GmmTensors, z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const u = z.expandDims(-2).sub(g.means).div(g.sigmas); // [..., K, d]
    const perComponent = u.square().mul(-0.5).sub(g.sigmas.log()).sub(HALF_LOG_2PI).sum(-1); // [..., K]
    return tf.logSoftmax(g.logits, -1).add(perComponent).logSumExp(-1);
  });
}

/** One mixture on the CPU side, read from a head output row. */
export interface Gmm {
  K: number;
  d: number;
  logits: Float32Array;
  /** [K·d], component-major */
  means: Float32Array;
  /** [K·d] */
  sigmas: Float32Array;
}

/** Parses row `row` of a head output [rows, K(1 + 2d)] downloaded to the CPU. */
export function gmmFromRow(out: Float32Array, row: number, K: number, d: number): Gmm {
  const width = K * (1 + 2 * d);
  const base = row * width;
  const sigmas = new Float32Array(K * d);
  for (let i = 0; i < K * d; i++) sigmas[i] = Math.max(squarePlusScalar(out[base + K + K * d + i]), SIGMA_FLOOR);
  return {
    K,
    d,
    logits: out.slice(base, base + K),
    means: out.slice(base + K, base + K + K * d),
    sigmas,
  };
}

/** Mixture log-weights log_softmax(logits · scale). */
function logWeights(g: Gmm, logitScale: number): Float64Array {
  const lw = new Float64Array(g.K);
  let max = -Infinity;
  for (let k = 0; k < g.K; k++) max = Math.max(max, (lw[k] = g.logits[k] * logitScale));
  let total = 0;
  for (let k = 0; k < g.K; k++) total += Math.exp(lw[k] - max);
  const lse = max + Math.log(total);
  for (let k = 0; k < g.K; k++) lw[k] -= lse;
  return lw;
}

/**
 * log G(z) with the logits multiplied by `logitScale` and σ by `sigmaScale`
 * (the scoring temperatures of Algorithm 1; both 1 gives the model's density).
 */
export function gmmLogDensityCpu(g: Gmm, z: ArrayLike<number>, logitScale = 1, sigmaScale = 1): number {
  const lw = logWeights(g, logitScale);
  let max = -Infinity;
  const terms = new Float64Array(g.K);
  for (let k = 0; k < g.K; k++) {
    let t = lw[k];
    for (let j = 0; j < g.d; j++) {
      const sigma = g.sigmas[k * g.d + j] * sigmaScale;
      const u = (z[j] - g.means[k * g.d + j]) / sigma;
      t += -0.5 * u * u - Math.log(sigma) - HALF_LOG_2PI;
    }
    terms[k] = t;
    max = Math.max(max, t);
  }
  if (max === -Infinity) return -Infinity;
  let total = 0;
  for (let k = 0; k < g.K; k++) total += Math.exp(terms[k] - max);
  return max + Math.log(total);
}

/** Draws a component from softmax(logits · logitScale). */
export function drawComponent(g: Gmm, logitScale: number, rng: Rng): number {
  return rng.categorical(logWeights(g, logitScale));
}

/**
 * The one token draw: k ~ Categorical(softmax(logits · logitScale)), z = μ_k + sigmaScale·σ_k ⊙ ε.
 * Writes d values into `out` at `offset`.
 */
export function drawGmm(
  g: Gmm,
  logitScale: number,
  sigmaScale: number,
  rng: Rng,
  out: Float32Array | Float64Array,
  offset = 0,
): void {
  const k = drawComponent(g, logitScale, rng);
  for (let j = 0; j < g.d; j++)
    out[offset + j] = g.means[k * g.d + j] + sigmaScale * g.sigmas[k * g.d + j] * rng.normal();
}

/** Decoupled draw (supplementary §7): mixture temperature T divides the logits, Gaussian scale s multiplies σ. */
export function sampleGmm(g: Gmm, T: number, s: number, rng: Rng, out: Float32Array, offset = 0): void {
  drawGmm(g, 1 / T, s, rng, out, offset);
}
