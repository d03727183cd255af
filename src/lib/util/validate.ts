// Checks for values that arrive as text or JSON: command-line options, URL parameters, cache
// keys, `--param key=value`. One error type and one message shape for all of them:
//   invalid <name>: <value as given> (<what is allowed>)
// e.g. `invalid --n: "x" (an integer ≥ 1)`, `invalid seed: -3 (an integer in [0, 2147483647])`.

export class ValueError extends Error {
  override name = 'ValueError';
}

/** Bounds of a number; `above`/`below` exclude the bound, `min`/`max` include it. */
export interface Bounds {
  min?: number;
  max?: number;
  above?: number;
  below?: number;
}

/** Seeds are integers in [0, 2³¹ − 1]: every Rng accepts them, and they survive JSON, URLs and int32. */
export const SEED_MAX = 2 ** 31 - 1;

function describeBounds(kind: string, b: Bounds): string {
  const lo = b.above !== undefined ? (['(', b.above] as const) : b.min !== undefined ? (['[', b.min] as const) : null;
  const hi = b.below !== undefined ? ([')', b.below] as const) : b.max !== undefined ? ([']', b.max] as const) : null;
  if (lo && hi) return `${kind} in ${lo[0]}${lo[1]}, ${hi[1]}${hi[0]}`;
  if (lo) return `${kind} ${lo[0] === '(' ? '>' : '≥'} ${lo[1]}`;
  if (hi) return `${kind} ${hi[0] === ')' ? '<' : '≤'} ${hi[1]}`;
  return kind;
}

function invalid(name: string, raw: unknown, allowed: string): ValueError {
  return new ValueError(`invalid ${name}: ${JSON.stringify(raw) ?? String(raw)} (${allowed})`);
}

/** A number from a number or its decimal text; NaN for anything else (including ""). */
function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') return Number(raw);
  return NaN;
}

function inBounds(v: number, b: Bounds): boolean {
  return !(
    (b.min !== undefined && v < b.min) ||
    (b.max !== undefined && v > b.max) ||
    (b.above !== undefined && v <= b.above) ||
    (b.below !== undefined && v >= b.below)
  );
}

/** A finite number within `bounds`, from a number or its text. */
export function checkNumber(name: string, raw: unknown, bounds: Bounds = {}): number {
  const v = toNumber(raw);
  if (!Number.isFinite(v) || !inBounds(v, bounds)) throw invalid(name, raw, describeBounds('a number', bounds));
  return v;
}

/** A safe integer within `bounds`, from a number or its text. */
export function checkInt(name: string, raw: unknown, bounds: Bounds = {}): number {
  const v = toNumber(raw);
  if (!Number.isSafeInteger(v) || !inBounds(v, bounds)) throw invalid(name, raw, describeBounds('an integer', bounds));
  return v;
}

/** A seed: an integer in [0, SEED_MAX]. */
export function checkSeed(name: string, raw: unknown): number {
  return checkInt(name, raw, { min: 0, max: SEED_MAX });
}

/** One of `choices`. */
export function checkChoice<T extends string>(name: string, raw: unknown, choices: readonly T[]): T {
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw))
    throw invalid(name, raw, `one of ${choices.join(', ')}`);
  return raw as T;
}
