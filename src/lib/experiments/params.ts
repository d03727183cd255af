// Typed parameter specs. An experiment declares each parameter once (kind, bounds, default), and
// `defineParams` turns the declaration into `defaults(model)` and `parse(raw, model)`: raw values
// (URL or `--param` text, a control's value, or values parsed before) become typed values once, at
// the boundary. Lists such as "0.8, 1, 1.3" become sorted number arrays there and nowhere else.
// The checks are src/lib/util/validate.ts's, shared with the command line: one ValueError, one
// message shape, `invalid <key>: <value> (<what is allowed>)`.
import type { CardSampling } from '../farmer/sampling-settings';
import type { FarmerModel } from '../farmer/model';
import { checkChoice, checkInt, checkNumber, checkSeed, SEED_MAX, ValueError } from '../util/validate';

/** A parsed parameter: what a cache key, a URL (lists joined by commas) and `--param` carry. */
export type ParamValue = number | string | boolean | number[];

/** Raw values by key: text from a URL or the command line, a control's value, or parsed values. */
export type RawParams = Record<string, unknown>;

/** A bound that may depend on the model (e.g. the number of AF blocks). */
export type Bound = number | ((model: FarmerModel) => number);

/** `invalid <key>: <value> (<allowed>)` */
export function invalid(key: string, raw: unknown, allowed: string): ValueError {
  return new ValueError(`invalid ${key}: ${JSON.stringify(raw)} (${allowed})`);
}

export interface ParamSpec<V extends ParamValue> {
  readonly default: (model: FarmerModel) => V;
  /** raw → value; throws ValueError */
  readonly parse: (raw: unknown, key: string, model: FarmerModel) => V;
  /** the entry of a model card's `sampling` block that recommends this parameter's value */
  readonly card?: keyof CardSampling;
}

const bound = (b: Bound, model: FarmerModel) => (typeof b === 'number' ? b : b(model));
const constant = <V>(v: V | ((model: FarmerModel) => V)) =>
  typeof v === 'function' ? (v as (model: FarmerModel) => V) : () => v;

/** A number from a number or its text; NaN otherwise (empty text included). */
function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') return Number(raw);
  return NaN;
}

/** An integer in [min, max]. */
export function integer(
  min: Bound,
  max: Bound,
  fallback: number | ((model: FarmerModel) => number),
): ParamSpec<number> {
  return {
    default: constant(fallback),
    parse: (raw, key, m) => checkInt(key, raw, { min: bound(min, m), max: bound(max, m) }),
  };
}

/** A number in (above, max]. */
export function real(above: number, max: number, fallback: number): ParamSpec<number> {
  return { default: () => fallback, parse: (raw, key) => checkNumber(key, raw, { above, max }) };
}

/** The seed of every random draw of a run: an integer in [0, SEED_MAX]. */
export function seed(fallback = 0): ParamSpec<number> {
  return { default: () => fallback, parse: (raw, key) => checkSeed(key, raw) };
}

export { SEED_MAX };

/** true / false (also "true", "false", "1", "0" as a URL writes them). */
export function flag(fallback: boolean | ((model: FarmerModel) => boolean)): ParamSpec<boolean> {
  return {
    default: constant(fallback),
    parse(raw, key) {
      if (raw === true || raw === 'true' || raw === '1' || raw === 1) return true;
      if (raw === false || raw === 'false' || raw === '0' || raw === 0) return false;
      throw invalid(key, raw, 'true or false');
    },
  };
}

/** One of a few words. */
export function choice<const W extends string>(options: readonly W[], fallback: NoInfer<W>): ParamSpec<W> {
  return { default: () => fallback, parse: (raw, key) => checkChoice(key, raw, options) };
}

/** `spec`, whose starting value a model card's `sampling.<key>` recommends (src/lib/runtime/cell-params.ts). */
export function fromCard<V extends ParamValue>(key: keyof CardSampling, spec: ParamSpec<V>): ParamSpec<V> {
  return { ...spec, card: key };
}

/** Tweedie denoising of samples: on by default for a gaussian-dequantized model (not a student), refused for others. */
export function denoise(): ParamSpec<boolean> {
  const able = (m: FarmerModel) => m.config.dequantization.kind === 'gaussian' && !m.config.student;
  const f = flag(able);
  return fromCard('denoise', {
    ...f,
    parse(raw, key, m) {
      const v = f.parse(raw, key, m);
      if (v && !able(m))
        throw invalid(
          key,
          raw,
          m.config.student
            ? 'a distilled student has no likelihood to denoise with'
            : `denoising needs a gaussian-dequantized model; this one is ${m.config.dequantization.kind}`,
        );
      return v;
    },
  });
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
export function numberList(
  b: ListBounds,
  fallback: number[] | ((model: FarmerModel) => number[]),
): ParamSpec<number[]> {
  const allowed = (m: FarmerModel) => {
    const lo = b.min !== undefined ? `[${b.min}` : `(${b.above ?? -Infinity}`;
    const what = `${b.integers ? 'integers' : 'numbers'} in ${lo}, ${bound(b.max, m)}]`;
    return `${b.all ? `"all" or ` : ''}up to ${b.maxLength} ${what}, comma-separated`;
  };
  const inRange = (v: number, m: FarmerModel) =>
    Number.isFinite(v) &&
    (!b.integers || Number.isInteger(v)) &&
    (b.min === undefined || v >= b.min) &&
    (b.above === undefined || v > b.above) &&
    v <= bound(b.max, m);
  return {
    default: constant(fallback),
    parse(raw, key, m) {
      let values: number[];
      if (Array.isArray(raw)) values = raw.map(toNumber);
      else if (typeof raw === 'number') values = [raw];
      else if (typeof raw === 'string') {
        const text = raw.trim().toLowerCase();
        if (b.all && (text === 'all' || text === ''))
          return Array.from({ length: bound(b.max, m) - (b.min ?? 0) + 1 }, (_, i) => (b.min ?? 0) + i);
        values = text
          .split(/[\s,;]+/)
          .filter((t) => t !== '')
          .map(Number);
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

export function defineParams<S extends ParamSpecs>(
  specs: S,
  check?: (p: ParamsOf<S>, model: FarmerModel) => void,
): ParamSet<ParamsOf<S>> {
  type P = ParamsOf<S>;
  const keys = Object.keys(specs) as (keyof S & string)[];
  return {
    specs: specs as unknown as ParamSet<P>['specs'],
    defaults(model) {
      return Object.fromEntries(keys.map((k) => [k, specs[k].default(model)])) as P;
    },
    parse(raw, model) {
      for (const k of Object.keys(raw))
        if (!(k in specs)) throw new ValueError(`unknown parameter "${k}" (this experiment takes ${keys.join(', ')})`);
      const p = Object.fromEntries(
        keys.map((k) => [k, raw[k] === undefined ? specs[k].default(model) : specs[k].parse(raw[k], k, model)]),
      ) as P;
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
