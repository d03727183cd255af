// The logdet experiment's parameters (suppl. Fig. 9).
import { ValueError } from '../../util/validate';
import { defineParams, denoise, fromCard, integer, real, seed, type ParamsOf } from '../params';
import { checkModel } from './result';

export const logdetParams = defineParams(
  {
    /** test images through the forward pass (the first n of the test split) */
    nTest: integer(0, 100_000, 256),
    /** generated samples; labels cycle through the classes */
    nSamples: integer(0, 10_000, 32),
    /** mixture temperature T of sampling; the model card may recommend one */
    T: fromCard('T', real(0, 100, 1)),
    /** Gaussian scale s of sampling (multiplies σ); the model card may recommend one */
    s: fromCard('s', real(0, 100, 1)),
    /** Tweedie denoising of the samples (gaussian-dequantized models) */
    denoise: denoise(),
    /** seeds the dequantization noise, the samples and the permutation test */
    seed: seed(),
    /** |modified z| above this is an outlier; Iglewicz–Hoaglin's 3.5 */
    threshold: real(0, 1000, 3.5),
  },
  (p, model) => {
    checkModel(model);
    if (p.nTest + p.nSamples < 1)
      throw new ValueError('invalid nTest: nTest and nSamples are both 0 (nothing to measure)');
  },
);

export type LogdetParams = ParamsOf<typeof logdetParams.specs>;
