// The parameter layout of a checkpoint (docs/model.md, "Checkpoint file"): names, shapes and initial values.
import * as tf from '@tensorflow/tfjs';
import type { FarmerConfig } from './config';
import { dimsOf } from './config';
import type { Params } from '../nn/params';
import type { TransformerConfig } from '../nn/transformer';
import { Rng } from '../util/random';

function transformerShapes(prefix: string, layers: number, t: TransformerConfig, out: Map<string, number[]>) {
  const W = t.width;
  const H = t.mlp_ratio * W;
  for (let j = 0; j < layers; j++) {
    const l = `${prefix}.layers.${j}`;
    out.set(`${l}.attn_norm.weight`, [W]);
    out.set(`${l}.attn_norm.bias`, [W]);
    out.set(`${l}.attn.qkv.weight`, [3 * W, W]);
    out.set(`${l}.attn.qkv.bias`, [3 * W]);
    out.set(`${l}.attn.out.weight`, [W, W]);
    out.set(`${l}.attn.out.bias`, [W]);
    out.set(`${l}.mlp_norm.weight`, [W]);
    out.set(`${l}.mlp_norm.bias`, [W]);
    out.set(`${l}.mlp.fc1.weight`, [H, W]);
    out.set(`${l}.mlp.fc1.bias`, [H]);
    out.set(`${l}.mlp.fc2.weight`, [W, H]);
    out.set(`${l}.mlp.fc2.bias`, [W]);
  }
}

/** Every tensor a checkpoint of this config must hold, with its shape, in a stable order. */
export function paramShapes(cfg: FarmerConfig): Map<string, number[]> {
  const { tokens: N, tokenDim: d, informative: dI, redundant: dR } = dimsOf(cfg);
  const out = new Map<string, number[]>();
  const W = cfg.af.width;
  for (let k = 0; k < cfg.af.blocks; k++) {
    const b = `af.blocks.${k}`;
    out.set(`${b}.proj_in.weight`, [W, d]);
    out.set(`${b}.proj_in.bias`, [W]);
    out.set(`${b}.pos_embed`, [N, W]);
    if (cfg.af.class_conditional) out.set(`${b}.class_embed`, [cfg.num_classes, W]);
    transformerShapes(b, cfg.af.layers_per_block, cfg.af, out);
    out.set(`${b}.proj_out.weight`, [2 * d, W]);
    out.set(`${b}.proj_out.bias`, [2 * d]);
  }
  if (cfg.prior.kind === 'farmer') {
    const p = cfg.prior;
    const A = p.ar.width;
    out.set('ar.cond_embed', [cfg.num_classes + 1, A]);
    out.set('ar.cond_pos', [p.cond_repeat, A]);
    out.set('ar.proj_in.weight', [A, dI]);
    out.set('ar.proj_in.bias', [A]);
    out.set('ar.pos_embed', [N, A]);
    transformerShapes('ar', p.ar.layers, p.ar, out);
    out.set('ar.norm.weight', [A]);
    out.set('ar.norm.bias', [A]);
    out.set('ar.head_info.weight', [p.mixtures_informative * (1 + 2 * dI), A]);
    out.set('ar.head_info.bias', [p.mixtures_informative * (1 + 2 * dI)]);
    out.set('ar.head_red.weight', [p.mixtures_redundant * (1 + 2 * dR), A]);
    out.set('ar.head_red.bias', [p.mixtures_redundant * (1 + 2 * dR)]);
  }
  return out;
}

export interface InitOptions {
  seed: number;
  /** std of the affine output layer; 0 starts every block at the identity (TARFlow) */
  projOutStd?: number;
}

/** Fresh weights: N(0, 0.02) linears, unit LayerNorms, GMM heads whose components differ. */
export function initParams(cfg: FarmerConfig, { seed, projOutStd = 0 }: InitOptions): Params {
  const rng = new Rng(seed);
  const params: Params = new Map();
  for (const [name, shape] of paramShapes(cfg)) {
    const size = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (name.endsWith('norm.weight')) values = new Float32Array(size).fill(1);
    else if (name.includes('proj_out'))
      values = projOutStd > 0 ? rng.normals(size, projOutStd) : new Float32Array(size);
    else if (name.startsWith('ar.head_') && name.endsWith('.bias')) values = headBias(cfg, name, rng);
    else if (name.endsWith('.bias')) values = new Float32Array(size);
    else values = rng.normals(size, 0.02);
    params.set(name, tf.tensor(values, shape));
  }
  return params;
}

/** Head bias `[logits K | means K·d_g | raw K·d_g]`: spread means, σ = square_plus(0) = 1. */
function headBias(cfg: FarmerConfig, name: string, rng: Rng): Float32Array {
  if (cfg.prior.kind !== 'farmer') throw new Error('GMM head without a farmer prior');
  const { informative, redundant } = dimsOf(cfg);
  const red = name.startsWith('ar.head_red');
  const K = red ? cfg.prior.mixtures_redundant : cfg.prior.mixtures_informative;
  const dg = red ? redundant : informative;
  const out = new Float32Array(K * (1 + 2 * dg));
  out.set(rng.normals(K * dg, 0.5), K);
  return out;
}
