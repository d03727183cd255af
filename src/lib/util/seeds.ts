// Seeds derived from a run's seed, by a small 32-bit integer hash (no TensorFlow.js: the page
// derives them too).

/** One step of the hash: `h` mixed with `v` (32-bit integers); chain it to derive a seed from several values. */
export function mixSeed(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}
