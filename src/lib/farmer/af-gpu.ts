// The KV-cached inverse of an AF block on the fused WebGPU kernels: the tokens x̃ live in one
// buffer that each step reads its input from and writes its output into, so a token step is
// the embedding, three dispatches a layer and the affine update (Eq. 8 inverted), nothing else.
import * as tf from '@tensorflow/tfjs';
import { param, type Params } from '../nn/params';
import { transformerStackStep, type StackOptions } from '../nn/transformer';
import type { QkvCache } from '../nn/transformer-gpu';
import { affineToken, embedToken, freshCopy } from '../tf/webgpu/token';

export interface GpuInverseBlock {
  /** `af.blocks.{k}` */
  prefix: string;
  stack: StackOptions;
  /** z̃ in the block's token order [B, N, d] */
  zt: tf.Tensor3D;
  /** the positional table in that order [N, W] */
  pos: tf.Tensor2D;
  /** e_y [B, W] of a class-conditional AF, else null */
  ey: tf.Tensor2D | null;
  softClip: number;
}

/** x̃ [B, N, d] in the block's token order: x̃_0 = z̃_0, then x̃_{i+1} = z̃_{i+1} ⊙ exp(a_i) + b_i. */
export function invertTokensGpu(params: Params, blk: GpuInverseBlock, caches: QkvCache[]): tf.Tensor3D {
  const N = blk.zt.shape[1];
  const [wIn, bIn] = [param(params, `${blk.prefix}.proj_in.weight`), param(params, `${blk.prefix}.proj_in.bias`)];
  const [wOut, bOut] = [param(params, `${blk.prefix}.proj_out.weight`), param(params, `${blk.prefix}.proj_out.bias`)];
  let tokens = freshCopy(blk.zt); // row 0 is already x̃_0 = z̃_0; the others are overwritten in turn
  for (let i = 0; i < N - 1; i++) {
    const h0 = embedToken(tokens, wIn, bIn, blk.pos, i, i, blk.ey ?? undefined);
    const h = transformerStackStep(params, h0, caches, blk.stack);
    const next = affineToken(tokens, h, wOut, bOut, blk.zt, i + 1, blk.softClip);
    tf.dispose([h0, h, tokens]);
    tokens = next;
  }
  return tokens;
}
