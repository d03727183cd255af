// The checkpoint file (docs/model.md, "Checkpoint file"): a safetensors file with the config and model card in its metadata.
// Every malformed or mismatched file is refused with one CheckpointError naming the problem.
import * as tf from '@tensorflow/tfjs';
import { ConfigError, parseConfig, type FarmerConfig } from '../farmer/config';
import { paramShapes } from '../farmer/params';
import { parseCardSampling } from '../farmer/sampling-settings';
import type { Params } from '../nn/params';
import {
  parseSafetensors,
  readFloat32,
  serializeSafetensors,
  SafetensorsError,
  type TensorToWrite,
} from './safetensors';
import { encodeF16 } from './float16';

export const checkpointFormat = 'farmer-workbench';
export const checkpointVersion = '1';

/** The model card stored with the weights; any other keys are kept as they are. */
export interface Card {
  /** dataset the model was trained on, as `--dataset` names it */
  dataset: string;
  /** optimizer steps taken */
  steps: number;
  /** wall-clock training time, seconds */
  time_s: number;
  /** seed of the training run */
  seed: number;
  /** evaluation results by name, e.g. `{ "bpd_test": 1.05 }` */
  metrics: Record<string, unknown>;
  /** recommended sampling settings and the final training σ (farmer/sampling-settings.ts CardSampling), optional */
  sampling?: unknown;
  [key: string]: unknown;
}

/** What `farmer info` reports about a file besides config and card. */
export interface CheckpointSummary {
  /** total number of weights */
  parameters: number;
  /** number of tensors */
  tensors: number;
  /** file size in bytes */
  fileBytes: number;
  /** how many tensors are stored in each dtype, e.g. `{ F32: 40 }` */
  dtypes: Record<string, number>;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** A checked checkpoint with its weights as plain arrays (no tf), in spec order. */
export interface CheckpointData {
  config: FarmerConfig;
  card: Card;
  weights: Map<string, { shape: number[]; values: Float32Array }>;
  summary: CheckpointSummary;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);
const floatDtypes = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Checks a card's required keys; throws CheckpointError naming the first bad one. */
export function parseCard(raw: unknown): Card {
  if (!isObject(raw)) throw new CheckpointError('card is not a JSON object');
  const need = (key: string, ok: (v: unknown) => boolean, what: string) => {
    if (!(key in raw)) throw new CheckpointError(`card is missing "${key}"`);
    if (!ok(raw[key])) throw new CheckpointError(`card.${key} must be ${what}, got ${JSON.stringify(raw[key])}`);
  };
  need('dataset', (v) => typeof v === 'string', 'a string');
  need('steps', (v) => Number.isInteger(v) && (v as number) >= 0, 'a non-negative integer');
  need('time_s', (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a non-negative number');
  need('seed', (v) => Number.isInteger(v), 'an integer');
  need('metrics', isObject, 'an object');
  if ('sampling' in raw) {
    try {
      parseCardSampling(raw.sampling);
    } catch (e) {
      throw new CheckpointError((e as Error).message);
    }
  }
  return raw as Card;
}

function jsonField(metadata: Record<string, string>, key: string): unknown {
  const text = metadata[key];
  if (text === undefined) throw new CheckpointError(`metadata has no "${key}"`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`metadata "${key}" is not valid JSON (${(e as Error).message})`);
  }
}

function countNonFinite(values: Float32Array): { nan: number; inf: number } {
  let nan = 0,
    inf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) nan++;
    else if (v === Infinity || v === -Infinity) inf++;
  }
  return { nan, inf };
}

function checkFinite(name: string, values: Float32Array, prefix = ''): void {
  const { nan, inf } = countNonFinite(values);
  if (nan + inf > 0)
    throw new CheckpointError(`${prefix}tensor ${name} has ${nan} NaN and ${inf} Inf values (of ${values.length})`);
}

/** Reads and checks a checkpoint without creating tf tensors (for `farmer info` and workers). */
export function readCheckpoint(bytes: Uint8Array | ArrayBuffer, source?: string): CheckpointData {
  try {
    return readChecked(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError || e instanceof CheckpointError)
      throw new CheckpointError(source ? `${source}: ${e.message}` : e.message);
    throw e;
  }
}

function readChecked(bytes: Uint8Array | ArrayBuffer): CheckpointData {
  const file = parseSafetensors(bytes);
  const meta = file.metadata;
  if (!('format' in meta)) throw new CheckpointError(`metadata has no "format": not a ${checkpointFormat} checkpoint`);
  if (meta.format !== checkpointFormat)
    throw new CheckpointError(`metadata format is ${JSON.stringify(meta.format)}, expected "${checkpointFormat}"`);
  if (!('version' in meta)) throw new CheckpointError('metadata has no "version"');
  if (meta.version !== checkpointVersion)
    throw new CheckpointError(
      `unsupported checkpoint version ${JSON.stringify(meta.version)} (this build reads "${checkpointVersion}")`,
    );
  let config: FarmerConfig;
  try {
    config = parseConfig(jsonField(meta, 'config'));
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`bad config in metadata: ${e.message}`);
    throw e;
  }
  const card = parseCard(jsonField(meta, 'card'));

  const expected = paramShapes(config);
  const present = new Map(file.tensors.map((t) => [t.name, t]));
  const missing = [...expected.keys()].filter((name) => !present.has(name));
  if (missing.length > 0) {
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
    throw new CheckpointError(`missing tensor ${missing[0]} ${shapeText(expected.get(missing[0])!)}${more}`);
  }
  const extra = file.tensors.filter((t) => !expected.has(t.name));
  if (extra.length > 0) {
    const more = extra.length > 1 ? ` (and ${extra.length - 1} more)` : '';
    throw new CheckpointError(
      `unexpected tensor ${extra[0].name} ${shapeText(extra[0].shape)}: not part of this config${more}`,
    );
  }

  const weights: CheckpointData['weights'] = new Map();
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  for (const [name, shape] of expected) {
    const t = present.get(name)!;
    if (!sameShape(t.shape, shape))
      throw new CheckpointError(`tensor ${name} has shape ${shapeText(t.shape)}, expected ${shapeText(shape)}`);
    if (!floatDtypes.has(t.dtype))
      throw new CheckpointError(`tensor ${name} has dtype ${t.dtype}; weights must be F32, F16, BF16 or F64`);
    const values = readFloat32(file, t);
    checkFinite(name, values);
    weights.set(name, { shape, values });
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    parameters += values.length;
  }
  return { config, card, weights, summary: { parameters, tensors: weights.size, fileBytes: file.fileBytes, dtypes } };
}

/** Reads, checks and uploads a checkpoint: float32 tensors by spec name. */
export function loadCheckpoint(
  bytes: Uint8Array | ArrayBuffer,
  source?: string,
): { config: FarmerConfig; card: Card; params: Params; summary: CheckpointSummary } {
  const { config, card, weights, summary } = readCheckpoint(bytes, source);
  const params: Params = new Map();
  for (const [name, { shape, values }] of weights) params.set(name, tf.tensor(values, shape, 'float32'));
  return { config, card, params, summary };
}

export interface SaveOptions {
  /** storage type of every tensor; F16 halves the file (default F32) */
  dtype?: 'F32' | 'F16';
}

/** Serializes checked weights; `values` must be in the layout of paramShapes(config). */
export function encodeCheckpoint(
  config: FarmerConfig,
  values: Map<string, Float32Array>,
  card: Card,
  { dtype = 'F32' }: SaveOptions = {},
): Uint8Array {
  let checked: FarmerConfig;
  try {
    checked = parseConfig(JSON.parse(JSON.stringify(config)));
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`cannot save: ${e.message}`);
    throw e;
  }
  parseCard(JSON.parse(JSON.stringify(card)));
  const expected = paramShapes(checked);
  for (const name of values.keys())
    if (!expected.has(name))
      throw new CheckpointError(`cannot save: unexpected tensor ${name}: not part of this config`);
  const tensors: [string, TensorToWrite][] = [];
  for (const [name, shape] of expected) {
    const v = values.get(name);
    if (!v) throw new CheckpointError(`cannot save: missing tensor ${name} ${shapeText(shape)}`);
    if (v.length !== shape.reduce((a, b) => a * b, 1))
      throw new CheckpointError(
        `cannot save: tensor ${name} has ${v.length} values, expected shape ${shapeText(shape)}`,
      );
    checkFinite(name, v, 'cannot save: ');
    if (dtype === 'F32') {
      tensors.push([name, { dtype, shape, data: v }]);
      continue;
    }
    const bits = encodeF16(v);
    const overflow = bits.reduce((n, h) => n + ((h & 0x7c00) === 0x7c00 ? 1 : 0), 0);
    if (overflow > 0)
      throw new CheckpointError(`cannot save: tensor ${name} has ${overflow} values beyond the float16 range (±65504)`);
    tensors.push([name, { dtype, shape, data: bits }]);
  }
  return serializeSafetensors(tensors, {
    format: checkpointFormat,
    version: checkpointVersion,
    config: JSON.stringify(checked),
    card: JSON.stringify(card),
  });
}

function checkShape(config: FarmerConfig, name: string, t: tf.Tensor): void {
  const want = paramShapes(config).get(name);
  if (want && !sameShape(t.shape, want))
    throw new CheckpointError(
      `cannot save: tensor ${name} has shape ${shapeText(t.shape)}, expected ${shapeText(want)}`,
    );
}

const asFloat32 = (d: ArrayLike<number>) => (d instanceof Float32Array ? d : Float32Array.from(d));

/** Saves tf weights (reads them with dataSync; use saveCheckpointAsync on GPU backends in Node). */
export function saveCheckpoint(config: FarmerConfig, params: Params, card: Card, options?: SaveOptions): Uint8Array {
  const values = new Map<string, Float32Array>();
  for (const [name, t] of params) {
    checkShape(config, name, t);
    values.set(name, asFloat32(t.dataSync() as ArrayLike<number>));
  }
  return encodeCheckpoint(config, values, card, options);
}

export async function saveCheckpointAsync(
  config: FarmerConfig,
  params: Params,
  card: Card,
  options?: SaveOptions,
): Promise<Uint8Array> {
  const values = new Map<string, Float32Array>();
  for (const [name, t] of params) {
    checkShape(config, name, t);
    values.set(name, asFloat32((await t.data()) as ArrayLike<number>));
  }
  return encodeCheckpoint(config, values, card, options);
}
