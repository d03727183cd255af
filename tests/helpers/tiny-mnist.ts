// The raw JSON of a tiny 28×28 MNIST configuration (patch 7, 2 AF blocks, width 16), for runs of
// the command-line trainers that must finish in seconds.
export const tinyMnistConfigJson = {
  image: { height: 28, width: 28, channels: 1 },
  patch_size: 7,
  num_classes: 10,
  af: { blocks: 2, layers_per_block: 1, width: 16, head_dim: 8, mlp_ratio: 2, class_conditional: false, soft_clip: 0 },
  prior: {
    kind: 'farmer',
    informative_dims: 8,
    cond_repeat: 2,
    final_permute: true,
    mixtures_informative: 2,
    mixtures_redundant: 2,
    ar: { layers: 1, width: 16, head_dim: 8, mlp_ratio: 2 },
  },
  dequantization: { kind: 'uniform' },
  label_dropout: 0.1,
};
