// Classifier-free guidance for GMM tokens, on the CPU side of sampling:
// naive rejection CFG (JetFormer/GIVT) and resampling CFG (Algorithm 1, Eq. 15).
import type { Rng } from '../util/random';
import { drawComponent, drawGmm, gmmLogDensityCpu, type Gmm } from './gmm';
import type { ResamplingParams } from './guidance-preset';

const LOG_2PI = Math.log(2 * Math.PI);

export { TABLE6_PRESET, TABLE6_W, type ResamplingParams } from './guidance-preset';

/**
 * Eq. 15 by sampling-importance-resampling: candidates from p_c get log-weight w·Δ, candidates
 * from p_u get (w+1)·Δ, Δ = log p_c − log p_u under the scoring temperatures; both times T_s.
 * Draws `count` vectors with replacement from one pool of `poolScale`·(s_c + s_u) candidates
 * into out[offset …]. count = poolScale = 1 is one token; the redundant group uses count = N.
 */
export function resamplingCfg(
  cond: Gmm,
  uncond: Gmm,
  w: number,
  p: ResamplingParams,
  rng: Rng,
  out: Float32Array,
  offset = 0,
  count = 1,
  poolScale = 1,
): void {
  const d = cond.d;
  const nc = p.s_c * poolScale,
    nu = p.s_u * poolScale,
    n = nc + nu;
  const pool = new Float64Array(n * d);
  const logW = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const fromCond = i < nc;
    drawGmm(fromCond ? cond : uncond, p.T_pi, p.T_sigma, rng, pool, i * d);
    const z = pool.subarray(i * d, (i + 1) * d);
    const delta = gmmLogDensityCpu(cond, z, p.T_pi_v, p.T_sigma_v) - gmmLogDensityCpu(uncond, z, p.T_pi_v, p.T_sigma_v);
    logW[i] = p.T_s * (fromCond ? w : w + 1) * delta;
  }
  for (let c = 0; c < count; c++) {
    const pick = rng.categorical(logW);
    for (let j = 0; j < d; j++) out[offset + c * d + j] = pool[pick * d + j];
  }
}

function logNormal(x: number, mu: number, sigma: number): number {
  const u = (x - mu) / sigma;
  return -0.5 * u * u - Math.log(sigma) - 0.5 * LOG_2PI;
}

/**
 * One dimension of naive CFG: rejection-sample ∝ N(μ_c,σ_c)^{1+w} / N(μ_u,σ_u)^w from the proposal
 * N(μ_c, 2·max(σ_c, σ_u)), ≤ maxTries, else the conditional draw. Exact rejection: the
 * log-ratio target/proposal is a quadratic whose maximum bounds the acceptance probability;
 * when it opens upward the target is not normalisable and the conditional draw is used.
 */
export function naiveCfgScalar(
  muC: number,
  sC: number,
  muU: number,
  sU: number,
  w: number,
  rng: Rng,
  maxTries = 1000,
): { value: number; accepted: boolean } {
  const sQ = 2 * Math.max(sC, sU);
  const logRatio = (x: number) => (1 + w) * logNormal(x, muC, sC) - w * logNormal(x, muU, sU) - logNormal(x, muC, sQ);
  // logRatio(x) = A x² + B x + const
  const A = -(1 + w) / (2 * sC * sC) + w / (2 * sU * sU) + 1 / (2 * sQ * sQ);
  const B = ((1 + w) * muC) / (sC * sC) - (w * muU) / (sU * sU) - muC / (sQ * sQ);
  if (A < 0) {
    const bound = logRatio(-B / (2 * A));
    for (let t = 0; t < maxTries; t++) {
      const x = muC + sQ * rng.normal();
      if (Math.log(rng.uniform()) < logRatio(x) - bound) return { value: x, accepted: true };
    }
  }
  return { value: muC + sC * rng.normal(), accepted: false };
}

/** Naive CFG for a token: one component k from the conditional weights, then each dimension. */
export function naiveCfg(cond: Gmm, uncond: Gmm, w: number, rng: Rng, out: Float32Array, offset = 0): number {
  const k = drawComponent(cond, 1, rng);
  let fallbacks = 0;
  for (let j = 0; j < cond.d; j++) {
    const i = k * cond.d + j;
    const r = naiveCfgScalar(cond.means[i], cond.sigmas[i], uncond.means[i], uncond.sigmas[i], w, rng);
    out[offset + j] = r.value;
    if (!r.accepted) fallbacks++;
  }
  return fallbacks;
}
