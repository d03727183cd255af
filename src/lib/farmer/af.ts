// The autoregressive flow, Eqs. 8–10: n causal-Transformer affine blocks, data → latent.
import * as tf from '@tensorflow/tfjs';
import type { FarmerConfig } from './config';
import { param, type Params } from '../nn/params';
import { linearNamed, linearSplit } from '../nn/layers';
import {
  createCaches,
  disposeCaches,
  fusedCaches,
  transformerStack,
  transformerStackStep,
  type StackOptions,
} from '../nn/transformer';
import { invertTokensGpu } from './af-gpu';
import { classMixtureWeights } from './labels';

/** Block k reads tokens in identity order when k is even and reversed when k is odd. */
export function blockFlips(k: number): boolean {
  return k % 2 === 1;
}

/** π along the token axis (axis 1 of [B, N, ·], axis 0 of [N, ·]). */
export function permuteTokens(x: tf.Tensor, flip: boolean, axis = 1): tf.Tensor {
  return flip ? tf.reverse(x, axis) : x.clone();
}

function stackOptions(cfg: FarmerConfig, k: number, causal: boolean, attnTemp = 1): StackOptions {
  return {
    prefix: `af.blocks.${k}`,
    layers: cfg.af.layers_per_block,
    shape: cfg.af,
    causal,
    temperature: attnTemp,
  };
}

/** e_y [B, 1, W] for a class-conditional AF (null label = mean of the rows), else null. */
function classEmbedding(
  params: Params,
  cfg: FarmerConfig,
  k: number,
  labels: Int32Array | null,
  B: number,
): tf.Tensor | null {
  if (!cfg.af.class_conditional) return null;
  return tf.tidy(() => {
    const y = labels ?? new Int32Array(B).fill(-1);
    const w = classMixtureWeights(y, cfg.num_classes);
    return tf.matMul(w, param(params, `af.blocks.${k}.class_embed`)).expandDims(1);
  });
}

/** o = c·tanh(o/c) when soft_clip = c > 0 (STARFlow's clip). */
function softClip(o: tf.Tensor, c: number): tf.Tensor {
  return c > 0 ? tf.tanh(o.div(c)).mul(c) : o;
}

/** Eq. 9: z̃ = (x̃ − b) ⊙ exp(−a). */
function affineForward(xt: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return xt.sub(b).mul(tf.exp(a.neg()));
}

/** Its inverse, x̃ = z̃ ⊙ exp(a) + b: the teacher's token step and the student's whole pass. */
export function affineInverse(zt: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return zt.mul(tf.exp(a)).add(b);
}

/** (a, b) from the raw block output o [B, T, 2d]. */
function splitAffine(o: tf.Tensor, d: number): [tf.Tensor, tf.Tensor] {
  const [a, b] = tf.split(o, [d, d], 2);
  return [a, b];
}

export interface BlockOptions {
  labels?: Int32Array | null;
  /** attention temperature of the AF (TARFlow's guidance knob), default 1 */
  attnTemp?: number;
  /** bidirectional attention: the distilled student (docs/model.md, "One-step distillation") */
  bidirectional?: boolean;
}

/**
 * The block Transformer on permuted tokens x̃ [B, N, d] → shifted affine parameters (a, b),
 * each [B, N, d]; token i depends on tokens < i only (when causal).
 */
export function blockAffine(
  params: Params,
  cfg: FarmerConfig,
  k: number,
  xt: tf.Tensor,
  opts: BlockOptions = {},
): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const [B, N, d] = xt.shape;
    const b = `af.blocks.${k}`;
    let h = linearNamed(params, `${b}.proj_in`, xt).add(
      permuteTokens(param(params, `${b}.pos_embed`), blockFlips(k), 0),
    );
    const ey = classEmbedding(params, cfg, k, opts.labels ?? null, B);
    if (ey) h = h.add(ey);
    h = transformerStack(params, h, stackOptions(cfg, k, !opts.bidirectional, opts.attnTemp));
    const shift = (o: tf.Tensor) => tf.concat([tf.zeros([B, 1, d]), o.slice([0, 0, 0], [B, N - 1, d])], 1); // o'_i = o_{i−1}
    const [a, sh] = linearSplit(params, `${b}.proj_out`, h, [d, d]); // [B, N, d] each
    return [shift(softClip(a, cfg.af.soft_clip)), shift(softClip(sh, cfg.af.soft_clip))];
  });
}

export interface BlockForward {
  /** Z^{k+1} [B, N, d] in token (raster) order */
  z: tf.Tensor3D;
  /** −Σ a per image [B] */
  logdet: tf.Tensor1D;
  /** −Σ_j a_ij per token, raster order [B, N] */
  logdetPerToken: tf.Tensor2D;
}

/** Eq. 8–10 for block k: z̃ = (x̃ − b) ⊙ exp(−a), logdet_k = −Σ a. */
export function blockForward(
  params: Params,
  cfg: FarmerConfig,
  k: number,
  x: tf.Tensor3D,
  opts: BlockOptions = {},
): BlockForward {
  return tf.tidy(() => {
    const flip = blockFlips(k);
    const xt = permuteTokens(x, flip);
    const [a, b] = blockAffine(params, cfg, k, xt, opts);
    const zt = affineForward(xt, a, b);
    const perToken = permuteTokens(a.sum(2).neg(), flip) as tf.Tensor2D;
    return {
      z: permuteTokens(zt, flip) as tf.Tensor3D,
      logdet: perToken.sum(1) as tf.Tensor1D,
      logdetPerToken: perToken,
    };
  });
}

export interface AfForward {
  /** Z = Z^n [B, N, d] */
  z: tf.Tensor3D;
  /** Z^1 … Z^n, when requested */
  latents: tf.Tensor3D[];
  /** Σ_k logdet_k [B] */
  logdet: tf.Tensor1D;
  /** [B, n] */
  logdetPerBlock: tf.Tensor2D;
  /** [B, n, N] */
  logdetPerToken: tf.Tensor3D;
}

/** X [B, N, d] (patchified, model space) → Z, with every block's logdet. */
export function afForward(
  params: Params,
  cfg: FarmerConfig,
  x: tf.Tensor3D,
  opts: BlockOptions & { keepLatents?: boolean } = {},
): AfForward {
  return tf.tidy(() => {
    let z = x;
    const latents: tf.Tensor3D[] = [];
    const perBlock: tf.Tensor1D[] = [];
    const perToken: tf.Tensor2D[] = [];
    for (let k = 0; k < cfg.af.blocks; k++) {
      const f = blockForward(params, cfg, k, z, opts);
      z = f.z;
      if (opts.keepLatents) latents.push(z);
      perBlock.push(f.logdet);
      perToken.push(f.logdetPerToken);
    }
    const logdetPerBlock = tf.stack(perBlock, 1) as tf.Tensor2D;
    return {
      z,
      latents,
      logdet: logdetPerBlock.sum(1) as tf.Tensor1D,
      logdetPerBlock,
      logdetPerToken: tf.stack(perToken, 1) as tf.Tensor3D,
    };
  });
}

/** The shifted (a, b) for token i+1 given the block output at token i, [B, 1, d] each. */
function affineAt(o: tf.Tensor, cfg: FarmerConfig, d: number): [tf.Tensor, tf.Tensor] {
  return splitAffine(softClip(o, cfg.af.soft_clip), d);
}

/**
 * Inverse of block k with the KV cache: x̃_0 = z̃_0; feed x̃_i alone, read (a, b) for token i+1,
 * x̃_{i+1} = z̃_{i+1} ⊙ exp(a) + b.
 */
export function blockInverse(
  params: Params,
  cfg: FarmerConfig,
  k: number,
  z: tf.Tensor3D,
  opts: BlockOptions = {},
): tf.Tensor3D {
  const [B, N, d] = z.shape;
  const flip = blockFlips(k);
  const b = `af.blocks.${k}`;
  const so = stackOptions(cfg, k, true, opts.attnTemp);
  const zt = permuteTokens(z, flip) as tf.Tensor3D;
  const pos = permuteTokens(param(params, `${b}.pos_embed`), flip, 0);
  const ey = classEmbedding(params, cfg, k, opts.labels ?? null, B);
  const caches = createCaches(B, N, so);
  if (fusedCaches(caches)) {
    // webgpu: eight dispatches a token step (af-gpu.ts)
    try {
      const blk = {
        prefix: b,
        stack: so,
        zt,
        pos: pos as tf.Tensor2D,
        ey: ey ? (ey.reshape([B, -1]) as tf.Tensor2D) : null,
        softClip: cfg.af.soft_clip,
      };
      const xt = invertTokensGpu(params, blk, caches);
      blk.ey?.dispose();
      if (!flip) return xt;
      const x = permuteTokens(xt, flip) as tf.Tensor3D;
      xt.dispose();
      return x;
    } finally {
      disposeCaches(caches);
      tf.dispose([zt, pos, ...(ey ? [ey] : [])]);
    }
  }
  const tokens: tf.Tensor[] = [zt.slice([0, 0, 0], [B, 1, d])];
  try {
    for (let i = 0; i < N - 1; i++) {
      const h0 = tf.tidy(() => {
        let h = linearNamed(params, `${b}.proj_in`, tokens[i]).add(pos.slice([i, 0], [1, -1]));
        return ey ? h.add(ey) : h;
      });
      const h = transformerStackStep(params, h0, caches, so);
      h0.dispose();
      tokens.push(
        tf.tidy(() => {
          const [a, sh] = affineAt(linearNamed(params, `${b}.proj_out`, h), cfg, d);
          return affineInverse(zt.slice([0, i + 1, 0], [B, 1, d]), a, sh);
        }),
      );
      h.dispose();
    }
    return tf.tidy(() => permuteTokens(tf.concat(tokens, 1), flip) as tf.Tensor3D);
  } finally {
    disposeCaches(caches);
    for (const t of tokens) t.dispose();
    zt.dispose();
    pos.dispose();
    ey?.dispose();
  }
}

/**
 * The same inverse without a cache: every step reruns the block on all N tokens (unknown ones
 * zero; causality makes them irrelevant). The reference the cached inverse is checked against.
 */
export function blockInverseUncached(
  params: Params,
  cfg: FarmerConfig,
  k: number,
  z: tf.Tensor3D,
  opts: BlockOptions = {},
): tf.Tensor3D {
  const [B, N, d] = z.shape;
  const flip = blockFlips(k);
  const zt = permuteTokens(z, flip);
  // x̃ known up to token i; the mask keeps later tokens zero so every step has the same shape.
  let xt = tf.tidy(() => tf.concat([zt.slice([0, 0, 0], [B, 1, d]), tf.zeros([B, N - 1, d])], 1));
  for (let i = 0; i < N - 1; i++) {
    const next = tf.tidy(() => {
      const [a, sh] = blockAffine(params, cfg, k, xt, opts);
      const at = (t: tf.Tensor) => t.slice([0, i + 1, 0], [B, 1, d]); // token i+1, [B, 1, d]
      const token = affineInverse(at(zt), at(a), at(sh));
      const onehot = tf.oneHot([i + 1], N).reshape([1, N, 1]);
      return xt.add(token.mul(onehot));
    });
    xt.dispose();
    xt = next;
  }
  const x = permuteTokens(xt, flip) as tf.Tensor3D;
  xt.dispose();
  zt.dispose();
  return x;
}

export interface InverseOptions extends BlockOptions {
  cached?: boolean;
  /** z is Z^{startBlock}, the latent after that many blocks; default n (the final latent) */
  startBlock?: number;
  /** called after each block, for progress */
  onBlock?: (k: number) => void;
}

/**
 * The one inversion loop, Z^{start} → X: `invertBlock(k, ·)` for k = start−1 … 0
 * (f_{n−1}⁻¹ … f_0⁻¹ for a full inverse); the teacher's and the student's inverse differ only in it.
 */
export function inverseChain(
  z: tf.Tensor3D,
  start: number,
  invertBlock: (k: number, z: tf.Tensor3D) => tf.Tensor3D,
  onBlock?: (k: number) => void,
): tf.Tensor3D {
  let x = z.clone();
  for (let k = start - 1; k >= 0; k--) {
    const next = invertBlock(k, x);
    x.dispose();
    x = next;
    onBlock?.(k);
  }
  return x;
}

/**
 * Z^{start} → X with the sequential block inverses, KV-cached unless `cached` is false.
 * `start` defaults to n; pass k to invert a latent taken after block k.
 */
export function afInverse(params: Params, cfg: FarmerConfig, z: tf.Tensor3D, opts: InverseOptions = {}): tf.Tensor3D {
  const inv = opts.cached === false ? blockInverseUncached : blockInverse;
  return inverseChain(z, opts.startBlock ?? cfg.af.blocks, (k, x) => inv(params, cfg, k, x, opts), opts.onBlock);
}
