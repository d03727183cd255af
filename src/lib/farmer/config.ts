// The model configuration of spec §7, its derived sizes, and its validation.
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
  /** a distilled one-step student (spec §6) */
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

type Json = Record<string, unknown>;

function obj(v: unknown, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`config: ${path} must be an object`);
  return v as Json;
}

function int(o: Json, key: string, path: string, min: number): number {
  const v = o[key];
  if (v === undefined) throw new ConfigError(`config: missing ${path}.${key}`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new ConfigError(`config: ${path}.${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function num(o: Json, key: string, path: string, min: number, max = Infinity): number {
  const v = o[key];
  if (v === undefined) throw new ConfigError(`config: missing ${path}.${key}`);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new ConfigError(`config: ${path}.${key} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
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
    throw new ConfigError(`config: ${path}.${key} must be ${choices.map((c) => `"${c}"`).join(' or ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function transformer(o: Json, path: string): TransformerConfig {
  const width = int(o, 'width', path, 1);
  const head_dim = int(o, 'head_dim', path, 1);
  const mlp_ratio = num(o, 'mlp_ratio', path, Number.MIN_VALUE);
  if (width % head_dim !== 0) throw new ConfigError(`config: ${path}.width ${width} is not a multiple of head_dim ${head_dim}`);
  if (!Number.isInteger(mlp_ratio * width))
    throw new ConfigError(`config: ${path}.mlp_ratio·width = ${mlp_ratio * width} is not an integer`);
  return { width, head_dim, mlp_ratio };
}

/** Checks every field of spec §7 and returns a normalised copy; throws ConfigError naming the field. */
export function parseConfig(raw: unknown): FarmerConfig {
  const c = obj(raw, 'config');
  const image = obj(c.image, 'image');
  const height = int(image, 'height', 'image', 1);
  const width = int(image, 'width', 'image', 1);
  const channels = int(image, 'channels', 'image', 1);
  const patch_size = int(c, 'patch_size', 'config', 1);
  if (height % patch_size !== 0 || width % patch_size !== 0)
    throw new ConfigError(`config: image ${height}×${width} is not divisible by patch_size ${patch_size}`);
  const num_classes = int(c, 'num_classes', 'config', 0);

  const afRaw = obj(c.af, 'af');
  const af: AfConfig = {
    blocks: int(afRaw, 'blocks', 'af', 1),
    layers_per_block: int(afRaw, 'layers_per_block', 'af', 0),
    ...transformer(afRaw, 'af'),
    class_conditional: bool(afRaw, 'class_conditional', 'af'),
    soft_clip: num(afRaw, 'soft_clip', 'af', 0),
  };
  if (af.class_conditional && num_classes < 1)
    throw new ConfigError('config: af.class_conditional needs num_classes ≥ 1');

  const tokenDim = channels * patch_size * patch_size;
  const priorRaw = obj(c.prior, 'prior');
  let prior: PriorConfig;
  if (priorRaw.kind === 'gaussian') prior = { kind: 'gaussian' };
  else if (priorRaw.kind === 'farmer') {
    const informative_dims = int(priorRaw, 'informative_dims', 'prior', 1);
    if (informative_dims >= tokenDim)
      throw new ConfigError(`config: prior.informative_dims ${informative_dims} must be < d = ${tokenDim}`);
    const arRaw = obj(priorRaw.ar, 'prior.ar');
    prior = {
      kind: 'farmer',
      informative_dims,
      cond_repeat: int(priorRaw, 'cond_repeat', 'prior', 1),
      final_permute: bool(priorRaw, 'final_permute', 'prior'),
      mixtures_informative: int(priorRaw, 'mixtures_informative', 'prior', 1),
      mixtures_redundant: int(priorRaw, 'mixtures_redundant', 'prior', 1),
      ar: { layers: int(arRaw, 'layers', 'prior.ar', 0), ...transformer(arRaw, 'prior.ar') },
    };
  } else throw new ConfigError(`config: prior.kind must be "gaussian" or "farmer", got ${JSON.stringify(priorRaw.kind)}`);

  const dqRaw = obj(c.dequantization, 'dequantization');
  let dequantization: Dequantization;
  if (dqRaw.kind === 'uniform') dequantization = { kind: 'uniform' };
  else if (dqRaw.kind === 'gaussian')
    dequantization = {
      kind: 'gaussian',
      sigma_min: dqRaw.sigma_min === undefined ? 0.005 : num(dqRaw, 'sigma_min', 'dequantization', 0),
      sigma_max: dqRaw.sigma_max === undefined ? 0.1 : num(dqRaw, 'sigma_max', 'dequantization', 0),
      schedule: dqRaw.schedule === undefined ? 'cosine' : choice(dqRaw, 'schedule', 'dequantization', ['cosine', 'fixed']),
    };
  else throw new ConfigError(`config: dequantization.kind must be "uniform" or "gaussian", got ${JSON.stringify(dqRaw.kind)}`);

  const label_dropout = num(c, 'label_dropout', 'config', 0, 1);
  const cfg: FarmerConfig = { image: { height, width, channels }, patch_size, num_classes, af, prior, dequantization, label_dropout };
  if (c.student !== undefined) cfg.student = bool(c, 'student', 'config');
  return cfg;
}

/** The reference configuration of spec §7 (MNIST, class-conditional FARMER prior). */
export const referenceConfig: FarmerConfig = {
  image: { height: 28, width: 28, channels: 1 },
  patch_size: 4,
  num_classes: 10,
  af: { blocks: 4, layers_per_block: 2, width: 128, head_dim: 32, mlp_ratio: 4, class_conditional: false, soft_clip: 0 },
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
