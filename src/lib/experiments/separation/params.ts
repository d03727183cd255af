// The separation experiment's parameters (suppl. Fig. 8), parsed once: depths become an array.
import { defineParams, integer, numberList, seed, type ParamsOf } from '../params';

export const separationParams = defineParams({
  /** index of the shown test image (the first sample) */
  image: integer(0, 1_000_000, 0),
  /** samples averaged in the curves: test images image, image+1, … (each with its own noise) */
  images: integer(1, 16, 2),
  /** number of noise levels α, evenly spaced over [0, 1] */
  levels: integer(2, 11, 5),
  /** depths k to perturb (the latent after block k), 1 … blocks; "all" in text */
  depths: numberList({ min: 1, max: (m) => m.config.af.blocks, maxLength: 64, integers: true, all: true }, (m) =>
    Array.from({ length: m.config.af.blocks }, (_, i) => i + 1),
  ),
  /** seed of the interpolation noise ε */
  seed: seed(),
});

export type SeparationParams = ParamsOf<typeof separationParams.specs>;

/** `depths` with depth k switched on or off; never empty. */
export function toggleDepth(depths: readonly number[], k: number): number[] {
  const on = new Set(depths);
  if (on.has(k)) {
    if (on.size === 1) return [...depths];
    on.delete(k);
  } else on.add(k);
  return [...on].sort((a, b) => a - b);
}
