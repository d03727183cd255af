// Tiny configurations for numerical tests: every configuration kind of the spec.
import * as tf from '@tensorflow/tfjs';
import { parseConfig, type FarmerConfig } from '../../src/lib/farmer/config';
import { initParams } from '../../src/lib/farmer/params';
import type { Params } from '../../src/lib/nn/params';
import { makeModel, type FarmerModel } from '../../src/lib/farmer/model';
import { Rng } from '../../src/lib/util/random';

export interface TinyOptions {
  prior?: 'farmer' | 'gaussian';
  blocks?: number;
  classConditionalAf?: boolean;
  softClip?: number;
  finalPermute?: boolean;
  mixtures?: [number, number];
  numClasses?: number;
  size?: number;
  channels?: number;
  patch?: number;
  informative?: number;
  /** the config's dequantization block; default uniform */
  dequantization?: Record<string, unknown>;
}

export function tinyConfig(o: TinyOptions = {}): FarmerConfig {
  const numClasses = o.numClasses ?? 3;
  return parseConfig({
    image: { height: o.size ?? 4, width: o.size ?? 4, channels: o.channels ?? 1 },
    patch_size: o.patch ?? 2,
    num_classes: numClasses,
    af: {
      blocks: o.blocks ?? 2,
      layers_per_block: 1,
      width: 16,
      head_dim: 8,
      mlp_ratio: 2,
      class_conditional: o.classConditionalAf ?? false,
      soft_clip: o.softClip ?? 0,
    },
    prior:
      o.prior === 'gaussian'
        ? { kind: 'gaussian' }
        : {
            kind: 'farmer',
            informative_dims: o.informative ?? 2,
            cond_repeat: 2,
            final_permute: o.finalPermute ?? true,
            mixtures_informative: o.mixtures?.[0] ?? 3,
            mixtures_redundant: o.mixtures?.[1] ?? 2,
            ar: { layers: 1, width: 16, head_dim: 8, mlp_ratio: 2 },
          },
    dequantization: o.dequantization ?? { kind: 'uniform' },
    label_dropout: 0.1,
  });
}

/** Random weights with non-zero affine outputs, so every block really transforms. */
export function tinyModel(o: TinyOptions = {}, seed = 1): FarmerModel {
  const cfg = tinyConfig(o);
  const params: Params = initParams(cfg, { seed, projOutStd: 0.3 });
  // Larger random weights than the training init so the flow is far from the identity.
  for (const [name, t] of params) {
    if (/pos_embed|class_embed|cond_/.test(name)) {
      params.set(
        name,
        tf.tidy(() => t.mul(20)),
      );
      t.dispose();
    }
  }
  return makeModel(cfg, params);
}

export function randomImages(cfg: FarmerConfig, B: number, seed = 2): tf.Tensor4D {
  const { height, width, channels } = cfg.image;
  return tf.tensor4d(new Rng(seed).normals(B * height * width * channels, 0.5), [B, height, width, channels]);
}
