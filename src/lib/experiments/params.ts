// Typed parameter specs. An experiment declares each parameter once (kind, bounds, default), and
// `defineParams` turns the declaration into `defaults(model)` and `parse(raw, model)`: raw values
// (URL or `--param` text, a control's value, or values parsed before) become typed values once, at
// the boundary. Lists such as "0.8, 1, 1.3" become sorted number arrays there and nowhere else.
// Every refusal has one shape: `invalid <key>: <value> (<what is allowed>)`.
import type { FarmerModel } from '../farmer/model';

/** A parsed parameter: what a cache key, a URL (lists joined by commas) and `--param` carry. */
export type ParamValue = number | string | boolean | number[];

/** Raw values by key: text from a URL or the command line, a control's value, or parsed values. */
export type RawParams = Record<string, unknown>;

/** A bound that may depend on the model (e.g. the number of AF blocks). */
export type Bound = number | ((model: FarmerModel) => number);

export class ParamError extends Error {
  override name = 'ParamError';
}

/** `invalid <key>: <value> (<allowed>)` */
export function invalid(key: string, raw: unknown, allowed: string): ParamError {
  return new ParamError(`invalid ${key}: ${JSON.stringify(raw)} (${allowed})`);
}

export interface ParamSpec<V extends ParamValue> {
  /** what the value may be, for messages and usage text */
  readonly allowed: (model: FarmerModel) => string;
  readonly default: (model: FarmerModel) => V;
  /** raw → value; throws ParamError */
  readonly parse: (raw: unknown, key: string, model: FarmerModel) => V;
}

const bound = (b: Bound, model: FarmerModel) => (typeof b === 'number' ? b : b(model));
const constant = <V>(v: V | ((model: FarmerModel) => V)) => (typeof v === 'function' ? (v as (model: FarmerModel) => V) : () => v);

/** A number from a number or its text; NaN otherwise (empty text included). */
function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') return Number(raw);
  return NaN;
}

/** An integer in [min, max]. */
export function integer(min: Bound, max: Bound, fallback: number | ((model: FarmerModel) => number)): ParamSpec<number> {
  const allowed = (m: FarmerModel) => `an integer in [${bound(min, m)}, ${bound(max, m)}]`;
  return {
    allowed,
    default: constant(fallback),
    parse(raw, key, m) {
      const v = toNumber(raw);
      if (!Number.isInteger(v) || v < bound(min, m) || v > bound(max, m)) throw invalid(key, raw, allowed(m));
      return v;
    },
  };
}

/** A number in (above, max]. */
export function real(above: number, max: number, fallback: number): ParamSpec<number> {
  const allowed = () => `a number in (${above}, ${max}]`;
  return {
    allowed,
    default: () => fallback,
    parse(raw, key) {
      const v = toNumber(raw);
      if (!Number.isFinite(v) || v <= above || v > max) throw invalid(key, raw, allowed());
      return v;
    },
  };
}

/** The largest seed: Rng takes 32 bits. */
export const MAX_SEED = 2 ** 32 - 1;

/** The seed of every random draw of a run: an integer in [0, 2³² − 1]. */
export function seed(fallback = 0): ParamSpec<number> {
  return integer(0, MAX_SEED, fallback);
}

/** true / false (also "true", "false", "1", "0" as a URL writes them). */
export function flag(fallback: boolean): ParamSpec<boolean> {
  return {
    allowed: () => 'true or false',
    default: () => fallback,
    parse(raw, key) {
      if (raw === true || raw === 'true' || raw === '1' || raw === 1) return true;
      if (raw === false || raw === 'false' || raw === '0' || raw === 0) return false;
      throw invalid(key, raw, 'true or false');
    },
  };
}

/** One of a few words. */
export function choice<const W extends string>(options: readonly W[], fallback: NoInfer<W>): ParamSpec<W> {
  const allowed = () => options.join(', ');
  return {
    allowed,
    default: () => fallback,
    parse(raw, key) {
      if (typeof raw !== 'string' || !options.includes(raw as W)) throw invalid(key, raw, `one of ${allowed()}`);
      return raw as W;
    },
  };
}

export interface ListBounds {
  /** values must be ≥ min … */
  min?: number;
  /** … or > above */
  above?: number;
  max: Bound;
  /** at most this many distinct values */
  maxLength: number;
  integers?: boolean;
  /** the word "all" (or empty text) stands for every integer in [min, max] */
  all?: boolean;
}

/**
 * A list of numbers from an array or text ("0.8, 1 1.3": commas, semicolons or spaces), sorted
 * ascending with duplicates dropped; never empty.
 */
export function numberList(b: ListBounds, fallback: number[] | ((model: FarmerModel) => number[])): ParamSpec<number[]> {
  const allowed = (m: FarmerModel) => {
    const lo = b.min !== undefined ? `[${b.min}` : `(${b.above ?? -Infinity}`;
    const what = `${b.integers ? 'integers' : 'numbers'} in ${lo}, ${bound(b.max, m)}]`;
    return `${b.all ? `"all" or ` : ''}up to ${b.maxLength} ${what}, comma-separated`;
  };
  const inRange = (v: number, m: FarmerModel) =>
    Number.isFinite(v) && (!b.integers || Number.isInteger(v)) && (b.min === undefined || v >= b.min) && (b.above === undefined || v > b.above) && v <= bound(b.max, m);
  return {
    allowed,
    default: constant(fallback),
    parse(raw, key, m) {
      let values: number[];
      if (Array.isArray(raw)) values = raw.map(toNumber);
      else if (typeof raw === 'number') values = [raw];
      else if (typeof raw === 'string') {
        const text = raw.trim().toLowerCase();
        if (b.all && (text === 'all' || text === '')) return Array.from({ length: bound(b.max, m) - (b.min ?? 0) + 1 }, (_, i) => (b.min ?? 0) + i);
        values = text.split(/[\s,;]+/).filter((t) => t !== '').map(Number);
      } else throw invalid(key, raw, allowed(m));
      if (values.length === 0 || !values.every((v) => inRange(v, m))) throw invalid(key, raw, allowed(m));
      const sorted = [...new Set(values)].sort((x, y) => x - y);
      if (sorted.length > b.maxLength) throw invalid(key, raw, allowed(m));
      return sorted;
    },
  };
}

export type ParamSpecs = Record<string, ParamSpec<ParamValue>>;
export type ParamsOf<S extends ParamSpecs> = { [K in keyof S]: S[K] extends ParamSpec<infer V> ? V : never };

/** An experiment's parameters: the specs, their defaults for a model, and the one parse. */
export interface ParamSet<P extends Record<string, ParamValue>> {
  readonly specs: { readonly [K in keyof P]: ParamSpec<P[K]> };
  /** every parameter's default for this model */
  defaults(model: FarmerModel): P;
  /**
   * Raw values (missing keys take their defaults) → parsed values. Keys the experiment does not
   * take are refused, naming the ones it does; `check` then refuses combinations and models.
   */
  parse(raw: RawParams, model: FarmerModel): P;
}

export function defineParams<S extends ParamSpecs>(specs: S, check?: (p: ParamsOf<S>, model: FarmerModel) => void): ParamSet<ParamsOf<S>> {
  type P = ParamsOf<S>;
  const keys = Object.keys(specs) as (keyof S & string)[];
  return {
    specs: specs as unknown as ParamSet<P>['specs'],
    defaults(model) {
      return Object.fromEntries(keys.map((k) => [k, specs[k].default(model)])) as P;
    },
    parse(raw, model) {
      for (const k of Object.keys(raw)) if (!(k in specs)) throw new ParamError(`unknown parameter "${k}" (this experiment takes ${keys.join(', ')})`);
      const p = Object.fromEntries(keys.map((k) => [k, raw[k] === undefined ? specs[k].default(model) : specs[k].parse(raw[k], k, model)])) as P;
      check?.(p, model);
      return p;
    },
  };
}

/** A parameter as text: a URL value or `--param k=v` (lists comma-joined). */
export function formatParam(v: ParamValue): string {
  if (Array.isArray(v)) return v.map((x) => formatParam(x)).join(',');
  return typeof v === 'number' && Object.is(v, -0) ? '0' : String(v);
}

/** Forward passes take about this many pixels at once (≈ 64 MNIST images): memory stays flat on every backend. */
const FORWARD_BATCH_PIXELS = 64 * 28 * 28;

/** Images per forward-pass batch for images of `pixels` values each. */
export function forwardBatch(pixels: number): number {
  return Math.max(1, Math.floor(FORWARD_BATCH_PIXELS / pixels));
}
