// A cell's parameters on the page, as plain functions: the values its controls start from (the
// experiment's defaults for the model, overridden by the model card's recommended sampling
// settings, then by the URL), their one parse (src/lib/experiments/resolve.ts, the same as the
// worker's and `farmer reproduce`'s), and the cache key of what a run would compute.
import { dimsOf, type FarmerConfig } from '../farmer/config';
import type { FarmerModel } from '../farmer/model';
import { cardSampling, type CardSampling } from '../farmer/sampling-settings';
import type { ParamValue, RawParams } from '../experiments/params';
import { isSeeded, resolveParams } from '../experiments/resolve';
import type { Experiment, ImageInput, Params } from '../experiments/types';
import { cacheKey } from './cache';

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The values a model card's `sampling` block recommends for `e`'s parameters: those whose spec
 * names a card entry (T, s, denoise, …; src/lib/experiments/params.ts `fromCard`). A malformed
 * block recommends nothing (the card is data from a file; `farmer info` says what is wrong).
 */
export function cardRecommendations(
  e: Experiment<Params, unknown>,
  card: Record<string, unknown>,
): Record<string, ParamValue> {
  let sampling: CardSampling;
  try {
    sampling = cardSampling(card);
  } catch {
    return {};
  }
  const out: Record<string, ParamValue> = {};
  for (const [key, spec] of Object.entries(e.params.specs)) {
    const value = spec.card === undefined ? undefined : sampling[spec.card];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The model as the page knows it: configuration and sizes, no weights (those live in the worker). */
export function shapeOnly(config: FarmerConfig): FarmerModel {
  return { config, params: new Map(), dims: dimsOf(config) };
}

/** What the controls show first, and why values offered from outside were not used. */
export interface StartingValues {
  /** every parameter but the seed */
  values: Record<string, ParamValue> | null;
  notice: string | null;
}

/**
 * The values a cell starts from: the experiment's defaults, then `recommended` (the model card's
 * sampling settings, cardRecommendations), then `url` (text as written). The first of those layers that does not
 * parse is dropped with a notice; defaults that do not parse for this model leave no values.
 */
export function startingValues(
  e: Experiment<Params, unknown>,
  model: FarmerModel,
  layers: { recommended?: Record<string, ParamValue>; url?: Record<string, string> },
  seed: number,
): StartingValues {
  let defaults: Params;
  try {
    defaults = e.params.defaults(model);
  } catch (err) {
    return { values: null, notice: `this model cannot run ${e.title}: ${messageOf(err)}` };
  }
  const { seed: _seed, ...base } = defaults as Record<string, ParamValue>;
  const pick = (from: Record<string, ParamValue> | undefined) =>
    Object.fromEntries(Object.entries(from ?? {}).filter(([k]) => k in base));
  const check = (values: RawParams) => void resolveParams(e, model, values, isSeeded(e) ? seed : undefined);
  let values: Record<string, ParamValue> = { ...base };
  const notices: string[] = [];
  for (const [what, layer] of [
    ['the model card’s sampling settings', pick(layers.recommended)],
    ['parameters from the URL', pick(layers.url)],
  ] as const) {
    if (Object.keys(layer).length === 0) continue;
    try {
      check({ ...values, ...layer });
      values = { ...values, ...layer };
    } catch (err) {
      notices.push(`${what} were not used (${messageOf(err)})`);
    }
  }
  return { values, notice: notices.length ? notices.join('; ') : null };
}

export type Parsed<P> = { ok: true; params: P } | { ok: false; error: string };

/** The control values parsed once, with the notebook's seed when the experiment takes one. */
export function parseValues<P extends Params>(
  e: Experiment<P, unknown>,
  model: FarmerModel,
  values: RawParams,
  seed: number,
): Parsed<P> {
  try {
    return { ok: true, params: resolveParams(e, model, values, isSeeded(e) ? seed : undefined) };
  } catch (err) {
    return { ok: false, error: messageOf(err) };
  }
}

/** A short stable hash of an image, for cache keys (FNV-1a over pixels, shape and label). */
export function imageKey(image: ImageInput): string {
  let h = 0x811c9dc5;
  const mix = (b: number) => (h = Math.imul(h ^ b, 0x01000193) >>> 0);
  for (const v of [image.height, image.width, image.channels, (image.label ?? -1) + 1]) (mix(v & 0xff), mix(v >>> 8));
  for (const p of image.pixels) mix(p);
  return `${image.height}x${image.width}x${image.channels}:${h.toString(16).padStart(8, '0')}`;
}

/** The cache key of a run of `params` (seed apart) on the model with this file hash. */
export function runKey(
  modelHash: string,
  cellId: string,
  params: Params,
  seed: number | null,
  image: ImageInput | null,
): string {
  const { seed: _seed, ...rest } = params;
  return cacheKey({ modelHash, cellId, params: image ? { ...rest, image_input: imageKey(image) } : rest, seed });
}
