// Priors on the AF latent Z (docs/model.md, "Priors"): TARFlow's standard Gaussian, or FARMER's AR Transformer
// with GMM heads over the informative channels and one shared GMM for the redundant ones.
import * as tf from '@tensorflow/tfjs';
import type { FarmerConfig, FarmerPrior } from './config';
import { dimsOf } from './config';
import { param, type Params } from '../nn/params';
import { linear, linearAfterNorm, linearNamed, layerNormNamed } from '../nn/layers';
import {
  createCaches,
  disposeCaches,
  fusedCaches,
  transformerStack,
  transformerStackStep,
  type LayerCache,
  type StackOptions,
} from '../nn/transformer';
import { embedToken } from '../tf/webgpu/token';
import { gmmHead, gmmLogDensity } from './gmm';
import { nullRowOneHot } from './labels';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export function farmerPrior(cfg: FarmerConfig): FarmerPrior {
  if (cfg.prior.kind !== 'farmer') throw new Error('this model has a gaussian prior, not a FARMER AR prior');
  return cfg.prior;
}

/** ρ: the AR reads tokens reversed when final_permute continues the AF's alternation to an odd block n. */
export function arFlips(cfg: FarmerConfig): boolean {
  return cfg.prior.kind === 'farmer' && cfg.prior.final_permute && cfg.af.blocks % 2 === 1;
}

/** raster index of the i-th token in AR order */
export function arToken(cfg: FarmerConfig, i: number): number {
  return arFlips(cfg) ? dimsOf(cfg).tokens - 1 - i : i;
}

function arStack(cfg: FarmerConfig): StackOptions {
  const p = farmerPrior(cfg);
  return { prefix: 'ar', layers: p.ar.layers, shape: p.ar, causal: true };
}

/** c_m = cond_embed[y] + cond_pos[m]: [B, M, A] */
function conditionPrefix(params: Params, cfg: FarmerConfig, labels: Int32Array): tf.Tensor {
  return tf.tidy(() => {
    const e = tf.matMul(nullRowOneHot(labels, cfg.num_classes), param(params, 'ar.cond_embed')); // [B, A]
    return e.expandDims(1).add(param(params, 'ar.cond_pos'));
  });
}

/** u_i = zI_ρ(i)·W_inᵀ + b_in + pos_embed[ρ(i)] for informative tokens already in AR order [B, T, d_I]. */
function embedTokens(params: Params, zI: tf.Tensor, pos: tf.Tensor): tf.Tensor {
  return tf.tidy(() => linearNamed(params, 'ar.proj_in', zI).add(pos));
}

export interface PriorTerms {
  /** log p(Z) [B] */
  logProb: tf.Tensor1D;
  /** Σ_i log G_i(zI_i) [B] (0 for a gaussian prior) */
  informative: tf.Tensor1D;
  /** Σ_i log G_R(zR_i) [B] */
  redundant: tf.Tensor1D;
  /** log G_i(zI_i) [B, N] in raster token order (0 for a gaussian prior) */
  informativePerToken: tf.Tensor2D;
  /** log G_R(zR_i) [B, N] in raster token order (the whole token for a gaussian prior) */
  redundantPerToken: tf.Tensor2D;
}

/** log p(Z) for Z [B, N, d] (Eq. 14 numerator without the logdet). */
export function priorLogProb(params: Params, cfg: FarmerConfig, z: tf.Tensor3D, labels: Int32Array): PriorTerms {
  return tf.tidy(() => {
    if (cfg.prior.kind === 'gaussian') {
      const redundantPerToken = z.square().mul(-0.5).sub(HALF_LOG_2PI).sum(2) as tf.Tensor2D;
      const logProb = redundantPerToken.sum(1) as tf.Tensor1D;
      return {
        logProb,
        informative: tf.zerosLike(logProb),
        redundant: logProb,
        informativePerToken: tf.zerosLike(redundantPerToken),
        redundantPerToken,
      };
    }
    const p = cfg.prior;
    const { tokens: N, tokenDim: d, informative: dI, redundant: dR } = dimsOf(cfg);
    const B = z.shape[0];
    const M = p.cond_repeat;
    const flip = arFlips(cfg);
    const zI = z.slice([0, 0, 0], [B, N, dI]);
    const zR = z.slice([0, 0, dI], [B, N, d - dI]);
    const zIordered = flip ? tf.reverse(zI, 1) : zI; // [B, N, d_I] in AR order ρ
    const pos = param(params, 'ar.pos_embed');
    const seq = tf.concat(
      [conditionPrefix(params, cfg, labels), embedTokens(params, zIordered, flip ? tf.reverse(pos, 0) : pos)],
      1,
    );
    const h = layerNormNamed(params, 'ar.norm', transformerStack(params, seq, arStack(cfg))); // [B, M+N, A]
    // The output at position M−1+i predicts G_{i+1}; the last one (at u_N) predicts G_R.
    const gInfo = gmmHead(params, 'ar.head_info', h.slice([0, M - 1, 0], [B, N, -1]), p.mixtures_informative, dI);
    const gRed = gmmHead(params, 'ar.head_red', h.slice([0, M + N - 1, 0], [B, 1, -1]), p.mixtures_redundant, dR);
    const infoOrdered = gmmLogDensity(gInfo, zIordered) as tf.Tensor2D; // [B, N] in AR order ρ
    const informativePerToken = (flip ? tf.reverse(infoOrdered, 1) : infoOrdered) as tf.Tensor2D;
    const redundantPerToken = gmmLogDensity(gRed, zR) as tf.Tensor2D; // G_R broadcasts over the N tokens
    const informative = informativePerToken.sum(1) as tf.Tensor1D;
    const redundant = redundantPerToken.sum(1) as tf.Tensor1D;
    return {
      logProb: informative.add(redundant) as tf.Tensor1D,
      informative,
      redundant,
      informativePerToken,
      redundantPerToken,
    };
  });
}

/**
 * Incremental AR decoding with a KV cache, for sampling: the condition prefix first, then one
 * informative token at a time. Each call returns the head output that predicts the next token
 * as a CPU array [B, K(1 + 2d_g)].
 */
export class ArDecoder {
  private caches: LayerCache[];
  private fed = 0;
  private readonly pos: tf.Tensor;
  readonly tokens: number;

  constructor(
    private readonly params: Params,
    private readonly cfg: FarmerConfig,
    readonly batch: number,
  ) {
    const p = farmerPrior(cfg);
    this.tokens = dimsOf(cfg).tokens;
    this.caches = createCaches(batch, p.cond_repeat + this.tokens, arStack(cfg));
    const pos = param(params, 'ar.pos_embed');
    this.pos = tf.keep(arFlips(cfg) ? tf.reverse(pos, 0) : pos.clone());
  }

  private headAtLast(h: tf.Tensor, head: 'ar.head_info' | 'ar.head_red'): tf.Tensor2D {
    return tf.tidy(() => {
      const T = h.shape[1] as number;
      const last = T === 1 ? h : h.slice([0, T - 1, 0], [this.batch, 1, -1]);
      return linearAfterNorm(this.params, 'ar.norm', head, last).reshape([this.batch, -1]) as tf.Tensor2D;
    });
  }

  /** Feeds the condition prefix; returns the head output for G_1. */
  start(labels: Int32Array): tf.Tensor2D {
    const prefix = conditionPrefix(this.params, this.cfg, labels);
    const h = transformerStackStep(this.params, prefix, this.caches, arStack(this.cfg));
    prefix.dispose();
    const out = this.headAtLast(h, 'ar.head_info');
    h.dispose();
    return out;
  }

  /** Feeds informative token i (AR order) [B, d_I]; returns the head output for G_{i+2}, or G_R after the last token. */
  feed(zI: tf.Tensor2D): tf.Tensor2D {
    const tokens = zI.expandDims(1) as tf.Tensor3D;
    try {
      return this.feedFrom(tokens, 0);
    } finally {
      tokens.dispose();
    }
  }

  /**
   * Feeds the next informative token, row `row` of a token buffer [B, S, d_I] (the GPU sampler
   * draws into one); returns the head output as feed does.
   */
  feedFrom(tokens: tf.Tensor3D, row: number): tf.Tensor2D {
    const i = this.fed++;
    const [w, b] = [param(this.params, 'ar.proj_in.weight'), param(this.params, 'ar.proj_in.bias')];
    const u = fusedCaches(this.caches)
      ? embedToken(tokens, w, b, this.pos as tf.Tensor2D, row, i) // one dispatch, read in place
      : tf.tidy(() =>
          linear(tokens.shape[1] === 1 ? tokens : tokens.slice([0, row, 0], [this.batch, 1, -1]), w, b).add(
            this.pos.slice([i, 0], [1, -1]),
          ),
        );
    const h = transformerStackStep(this.params, u, this.caches, arStack(this.cfg));
    u.dispose();
    const out = this.headAtLast(h, i === this.tokens - 1 ? 'ar.head_red' : 'ar.head_info');
    h.dispose();
    return out;
  }

  dispose(): void {
    disposeCaches(this.caches);
    this.pos.dispose();
  }
}
