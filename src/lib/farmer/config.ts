// The model configuration (docs/model.md, "Checkpoint file"), its derived sizes, and its validation.
import type { TransformerConfig } from '../nn/transformer';

export interface AfConfig extends TransformerConfig {
  /** n, the number of flow blocks */
  blocks: number;
  /** L, Transformer layers per block */
  layers_per_block: number;
  /** TARFlow-compatible class embedding added to every token */
  class_conditional: boolean;
  /** c > 0 applies c·tanh(o/c) to the affine outputs; 0 = off */
  soft_clip: number;
}

export interface GaussianPrior {
  kind: 'gaussian';
}

export interface FarmerPrior {
  kind: 'farmer';
  /** d_I, leading channels modelled token by token */
  informative_dims: number;
  /** M, how many times the class embedding is repeated as a prefix */
  cond_repeat: number;
  /** AR order continues the AF's identity/flip alternation */
  final_permute: boolean;
  /** K_I */
  mixtures_informative: number;
  /** K_R */
  mixtures_redundant: number;
  ar: TransformerConfig & { layers: number };
}

export type PriorConfig = GaussianPrior | FarmerPrior;

export type Dequantization =
  | { kind: 'uniform' }
  | {
      kind: 'gaussian';
      sigma_min: number;
      sigma_max: number;
      /** `cosine` anneals σ_max → σ_min over training; `fixed` trains at σ_max throughout (default cosine) */
      schedule: 'cosine' | 'fixed';
    };

export interface FarmerConfig {
  image: { height: number; width: number; channels: number };
  patch_size: number;
  /** 0 for unconditional models */
  num_classes: number;
  af: AfConfig;
  prior: PriorConfig;
  dequantization: Dequantization;
  /** probability of replacing y by the null label during training */
  label_dropout: number;
  /** a distilled one-step student (docs/model.md, "One-step distillation") */
  student?: boolean;
}

/** Sizes that follow from a config; computed once at the boundary. */
export interface Dims {
  /** N, tokens */
  tokens: number;
  /** d = C·p², dims per token */
  tokenDim: number;
  /** H·W·C */
  pixels: number;
  /** d_I (= d for a gaussian prior) */
  informative: number;
  /** d_R = d − d_I (0 for a gaussian prior) */
  redundant: number;
}

export function dimsOf(cfg: FarmerConfig): Dims {
  const { height, width, channels } = cfg.image;
  const p = cfg.patch_size;
  const tokens = (height / p) * (width / p);
  const tokenDim = channels * p * p;
  const informative = cfg.prior.kind === 'farmer' ? cfg.prior.informative_dims : tokenDim;
  return { tokens, tokenDim, pixels: height * width * channels, informative, redundant: tokenDim - informative };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The largest sizes a config may ask for. Beyond them the weights, or one attention map of N²
 * logits per head, no longer fit in the memory of a browser tab (or of one JavaScript
 * ArrayBuffer); checking them first makes an absurd config fail at once instead of hanging.
 */
export const LIMITS = {
  /** image height and width, pixels */
  side: 4096,
  /** image channels */
  channels: 4,
  /** N = (H/p)(W/p): attention holds N² logits per head and image */
  tokens: 4096,
  /** d = C·p² */
  tokenDim: 4096,
  num_classes: 100_000,
  /** AF blocks, layers per block, AR layers */
  depth: 64,
  /** Transformer width */
  width: 8192,
  mlp_ratio: 16,
  cond_repeat: 256,
  /** GMM components K_I, K_R */
  mixtures: 4096,
  /** float32 weights in all: 2 GiB */
  parameters: 2 ** 29,
} as const;

type Json = Record<string, unknown>;

function obj(v: unknown, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ConfigError(`config: ${path} must be an object`);
  return v as Json;
}

/** Refuses any key of `o` not in `known`, naming it. */
function onlyKeys(o: Json, path: string, known: readonly string[]): void {
  for (const key of Object.keys(o))
    if (!known.includes(key)) throw new ConfigError(`config: unknown key ${path}.${key} (known: ${known.join(', ')})`);
}

function int(o: Json, key: string, path: string, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) throw new ConfigError(`config: missing ${path}.${key}`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new ConfigError(`config: ${path}.${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

/** A finite number in [min, max], or in (min, max] when `openMin`. */
function num(o: Json, key: string, path: string, min: number, max = Infinity, openMin = false): number {
  const v = o[key];
  if (v === undefined) throw new ConfigError(`config: missing ${path}.${key}`);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (openMin && v === min) || v > max)
    throw new ConfigError(
      `config: ${path}.${key} must be a number in ${openMin ? '(' : '['}${min}, ${max}], got ${JSON.stringify(v)}`,
    );
  return v;
}

function bool(o: Json, key: string, path: string): boolean {
  const v = o[key];
  if (v === undefined) throw new ConfigError(`config: missing ${path}.${key}`);
  if (typeof v !== 'boolean') throw new ConfigError(`config: ${path}.${key} must be true or false`);
  return v;
}

function choice<T extends string>(o: Json, key: string, path: string, choices: readonly T[]): T {
  const v = o[key];
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v))
    throw new ConfigError(
      `config: ${path}.${key} must be ${choices.map((c) => `"${c}"`).join(' or ')}, got ${JSON.stringify(v)}`,
    );
  return v as T;
}

const TRANSFORMER_KEYS = ['width', 'head_dim', 'mlp_ratio'] as const;

function transformer(o: Json, path: string): TransformerConfig {
  const width = int(o, 'width', path, 1, LIMITS.width);
  const head_dim = int(o, 'head_dim', path, 1, width);
  const mlp_ratio = num(o, 'mlp_ratio', path, 0, LIMITS.mlp_ratio, true);
  if (width % head_dim !== 0)
    throw new ConfigError(`config: ${path}.width ${width} is not a multiple of head_dim ${head_dim}`);
  if (!Number.isInteger(mlp_ratio * width))
    throw new ConfigError(`config: ${path}.mlp_ratio·width = ${mlp_ratio * width} is not an integer`);
  return { width, head_dim, mlp_ratio };
}

/** Weights of one pre-LN Transformer layer of width W (two LayerNorms, qkv, out, fc1, fc2). */
function layerParameters({ width: W, mlp_ratio }: TransformerConfig): number {
  const H = mlp_ratio * W;
  return 2 * W + (3 * W * W + 3 * W) + (W * W + W) + 2 * W + (H * W + H) + (W * H + W);
}

/** The number of weights paramShapes(cfg) lists, by arithmetic (no loop over blocks or layers). */
export function parameterCount(cfg: FarmerConfig): number {
  const { tokens: N, tokenDim: d, informative: dI, redundant: dR } = dimsOf(cfg);
  const W = cfg.af.width;
  const block =
    W * d +
    W +
    N * W +
    (cfg.af.class_conditional ? cfg.num_classes * W : 0) +
    cfg.af.layers_per_block * layerParameters(cfg.af) +
    2 * d * W +
    2 * d;
  let total = cfg.af.blocks * block;
  if (cfg.prior.kind === 'farmer') {
    const p = cfg.prior,
      A = p.ar.width;
    const heads = p.mixtures_informative * (1 + 2 * dI) * (A + 1) + p.mixtures_redundant * (1 + 2 * dR) * (A + 1);
    total +=
      (cfg.num_classes + 1) * A +
      p.cond_repeat * A +
      A * dI +
      A +
      N * A +
      p.ar.layers * layerParameters(p.ar) +
      2 * A +
      heads;
  }
  return total;
}

/** Checks every field and every bound, and returns a normalised copy; throws ConfigError naming the field. */
export function parseConfig(raw: unknown): FarmerConfig {
  const c = obj(raw, 'config');
  onlyKeys(c, 'config', [
    'image',
    'patch_size',
    'num_classes',
    'af',
    'prior',
    'dequantization',
    'label_dropout',
    'student',
  ]);
  const image = obj(c.image, 'image');
  onlyKeys(image, 'image', ['height', 'width', 'channels']);
  const height = int(image, 'height', 'image', 1, LIMITS.side);
  const width = int(image, 'width', 'image', 1, LIMITS.side);
  const channels = int(image, 'channels', 'image', 1, LIMITS.channels);
  const patch_size = int(c, 'patch_size', 'config', 1, Math.min(height, width));
  if (height % patch_size !== 0 || width % patch_size !== 0)
    throw new ConfigError(`config: image ${height}×${width} is not divisible by patch_size ${patch_size}`);
  const tokens = (height / patch_size) * (width / patch_size);
  if (tokens > LIMITS.tokens)
    throw new ConfigError(
      `config: ${height}×${width} images in ${patch_size}×${patch_size} patches make ${tokens} tokens; at most ${LIMITS.tokens} (attention holds N² logits per head)`,
    );
  const tokenDim = channels * patch_size * patch_size;
  if (tokenDim > LIMITS.tokenDim)
    throw new ConfigError(`config: a token has C·p² = ${tokenDim} dimensions; at most ${LIMITS.tokenDim}`);
  const num_classes = int(c, 'num_classes', 'config', 0, LIMITS.num_classes);

  const afRaw = obj(c.af, 'af');
  onlyKeys(afRaw, 'af', ['blocks', 'layers_per_block', ...TRANSFORMER_KEYS, 'class_conditional', 'soft_clip']);
  const af: AfConfig = {
    blocks: int(afRaw, 'blocks', 'af', 1, LIMITS.depth),
    layers_per_block: int(afRaw, 'layers_per_block', 'af', 0, LIMITS.depth),
    ...transformer(afRaw, 'af'),
    class_conditional: bool(afRaw, 'class_conditional', 'af'),
    soft_clip: num(afRaw, 'soft_clip', 'af', 0),
  };
  if (af.class_conditional && num_classes < 1)
    throw new ConfigError('config: af.class_conditional needs num_classes ≥ 1');

  const priorRaw = obj(c.prior, 'prior');
  let prior: PriorConfig;
  if (priorRaw.kind === 'gaussian') {
    onlyKeys(priorRaw, 'prior', ['kind']);
    prior = { kind: 'gaussian' };
  } else if (priorRaw.kind === 'farmer') {
    onlyKeys(priorRaw, 'prior', [
      'kind',
      'informative_dims',
      'cond_repeat',
      'final_permute',
      'mixtures_informative',
      'mixtures_redundant',
      'ar',
    ]);
    const informative_dims = int(priorRaw, 'informative_dims', 'prior', 1, LIMITS.tokenDim);
    if (informative_dims >= tokenDim)
      throw new ConfigError(`config: prior.informative_dims ${informative_dims} must be < d = ${tokenDim}`);
    const arRaw = obj(priorRaw.ar, 'prior.ar');
    onlyKeys(arRaw, 'prior.ar', ['layers', ...TRANSFORMER_KEYS]);
    prior = {
      kind: 'farmer',
      informative_dims,
      cond_repeat: int(priorRaw, 'cond_repeat', 'prior', 1, LIMITS.cond_repeat),
      final_permute: bool(priorRaw, 'final_permute', 'prior'),
      mixtures_informative: int(priorRaw, 'mixtures_informative', 'prior', 1, LIMITS.mixtures),
      mixtures_redundant: int(priorRaw, 'mixtures_redundant', 'prior', 1, LIMITS.mixtures),
      ar: { layers: int(arRaw, 'layers', 'prior.ar', 0, LIMITS.depth), ...transformer(arRaw, 'prior.ar') },
    };
  } else
    throw new ConfigError(`config: prior.kind must be "gaussian" or "farmer", got ${JSON.stringify(priorRaw.kind)}`);

  const dqRaw = obj(c.dequantization, 'dequantization');
  let dequantization: Dequantization;
  if (dqRaw.kind === 'uniform') {
    onlyKeys(dqRaw, 'dequantization', ['kind']);
    dequantization = { kind: 'uniform' };
  } else if (dqRaw.kind === 'gaussian') {
    onlyKeys(dqRaw, 'dequantization', ['kind', 'sigma_min', 'sigma_max', 'schedule']);
    dequantization = {
      kind: 'gaussian',
      sigma_min: dqRaw.sigma_min === undefined ? 0.005 : num(dqRaw, 'sigma_min', 'dequantization', 0),
      sigma_max: dqRaw.sigma_max === undefined ? 0.1 : num(dqRaw, 'sigma_max', 'dequantization', 0),
      schedule:
        dqRaw.schedule === undefined ? 'cosine' : choice(dqRaw, 'schedule', 'dequantization', ['cosine', 'fixed']),
    };
  } else
    throw new ConfigError(
      `config: dequantization.kind must be "uniform" or "gaussian", got ${JSON.stringify(dqRaw.kind)}`,
    );

  const label_dropout = num(c, 'label_dropout', 'config', 0, 1);
  const cfg: FarmerConfig = {
    image: { height, width, channels },
    patch_size,
    num_classes,
    af,
    prior,
    dequantization,
    label_dropout,
  };
  if (c.student !== undefined) cfg.student = bool(c, 'student', 'config');
  const parameters = parameterCount(cfg);
  if (parameters > LIMITS.parameters)
    throw new ConfigError(
      `config: ${parameters.toLocaleString('en-US')} weights; at most ${LIMITS.parameters.toLocaleString('en-US')} (2 GiB of float32)`,
    );
  return cfg;
}

/** The reference configuration (configs/mnist-farmer-bpd.json: MNIST, class-conditional FARMER prior). */
export const referenceConfig: FarmerConfig = {
  image: { height: 28, width: 28, channels: 1 },
  patch_size: 4,
  num_classes: 10,
  af: {
    blocks: 4,
    layers_per_block: 2,
    width: 128,
    head_dim: 32,
    mlp_ratio: 4,
    class_conditional: false,
    soft_clip: 0,
  },
  prior: {
    kind: 'farmer',
    informative_dims: 4,
    cond_repeat: 4,
    final_permute: true,
    mixtures_informative: 16,
    mixtures_redundant: 16,
    ar: { layers: 4, width: 128, head_dim: 32, mlp_ratio: 4 },
  },
  dequantization: { kind: 'uniform' },
  label_dropout: 0.1,
};
