// One-step distillation (Algorithm 2, docs/model.md "One-step distillation"): a bidirectional student that maps Z^{k+1} → Z^k
// in one parallel pass per block, trained to match the teacher's forward latents.
import * as tf from '@tensorflow/tfjs';
import type { FarmerConfig } from './config';
import type { Params } from '../nn/params';
import {
  affineInverse,
  afForward,
  blockAffine,
  blockFlips,
  inverseChain,
  permuteTokens,
  type BlockOptions,
} from './af';
import type { FarmerModel } from './model';
import { patchify } from './patchify';
import type { Rng } from '../util/random';

/** The student's config: the teacher's, marked as a student. */
export function studentConfig(teacher: FarmerConfig): FarmerConfig {
  return { ...teacher, student: true };
}

/** Student weights start as a copy of the teacher's (AF and prior alike). */
export function initStudentParams(teacher: Params): Params {
  const out: Params = new Map();
  for (const [name, t] of teacher) out.set(name, t.clone());
  return out;
}

/** g_k: in block k's order, (a, b) from the bidirectional transformer on z̃, x̃ = z̃ ⊙ exp(a) + b. */
export function studentBlock(
  params: Params,
  cfg: FarmerConfig,
  k: number,
  z: tf.Tensor3D,
  opts: BlockOptions = {},
): tf.Tensor3D {
  return tf.tidy(() => {
    const flip = blockFlips(k);
    const zt = permuteTokens(z, flip);
    const [a, b] = blockAffine(params, cfg, k, zt, { ...opts, bidirectional: true });
    return permuteTokens(affineInverse(zt, a, b), flip) as tf.Tensor3D;
  });
}

/** Z^{start} → X with g_{start−1} … g_0, one pass per block. */
export function studentInverse(
  params: Params,
  cfg: FarmerConfig,
  z: tf.Tensor3D,
  opts: BlockOptions & { startBlock?: number; onBlock?: (k: number) => void } = {},
): tf.Tensor3D {
  return inverseChain(
    z,
    opts.startBlock ?? cfg.af.blocks,
    (k, x) => studentBlock(params, cfg, k, x, opts),
    opts.onBlock,
  );
}

/**
 * Algorithm 2's loss for a batch of images [B, H, W, C]: teacher latents Z^0 … Z^n;
 * Z̃^n = Z^n + s·ε with s ~ U[0, 0.3] drawn once per batch; the student chain on its own outputs;
 * (1/n)·Σ_k MSE(Z̃^k, Z^k).
 */
export function distillationLoss(
  teacher: FarmerModel,
  student: Params,
  x: tf.Tensor4D,
  labels: Int32Array | null,
  rng: Rng,
): tf.Scalar {
  const cfg = teacher.config;
  const n = cfg.af.blocks;
  const s = 0.3 * rng.uniform();
  const { tokens: N, tokenDim: d } = teacher.dims;
  const eps = tf.tensor3d(rng.normals(x.shape[0] * N * d), [x.shape[0], N, d]);
  const opts = { labels: labels ?? undefined };
  const result = tf.tidy(() => {
    const x0 = patchify(x, cfg.patch_size);
    // The teacher's weights are plain tensors, not variables: no gradient reaches them.
    const targets = [x0, ...afForward(teacher.params, cfg, x0, { ...opts, keepLatents: true }).latents];
    let zk = targets[n].add(eps.mul(s)) as tf.Tensor3D;
    let total = tf.scalar(0);
    for (let k = n - 1; k >= 0; k--) {
      zk = studentBlock(student, cfg, k, zk, opts);
      total = total.add(tf.losses.meanSquaredError(targets[k], zk));
    }
    return total.div(n) as tf.Scalar;
  });
  eps.dispose();
  return result;
}
