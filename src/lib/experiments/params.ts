// Checks for experiment parameters as they arrive from a URL, a cache key or `--param`: one
// message shape, `invalid <key>: <value> (<what is allowed>)`, that the page shows under the controls.

/** An integer in [min, max]; `fallback` when absent. */
export function intParam(raw: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = raw[key] === undefined ? fallback : Number(raw[key]);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`invalid ${key}: ${JSON.stringify(raw[key])} (an integer in [${min}, ${max}])`);
  return v;
}

/** A number in (min, max]; `fallback` when absent. */
export function numParam(raw: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = raw[key] === undefined ? fallback : Number(raw[key]);
  if (!Number.isFinite(v) || v <= min || v > max) throw new Error(`invalid ${key}: ${JSON.stringify(raw[key])} (a number in (${min}, ${max}])`);
  return v;
}

/** A seed for Rng: an integer in [0, 2³¹ − 1]. */
export function seedParam(raw: Record<string, unknown>, fallback: number): number {
  return intParam(raw, 'seed', fallback, 0, 2 ** 31 - 1);
}

/** Forward passes take about this many pixels at once (≈ 64 MNIST images): memory stays flat on every backend. */
const FORWARD_BATCH_PIXELS = 64 * 28 * 28;

/** Images per forward-pass batch for images of `pixels` values each. */
export function forwardBatch(pixels: number): number {
  return Math.max(1, Math.floor(FORWARD_BATCH_PIXELS / pixels));
}
