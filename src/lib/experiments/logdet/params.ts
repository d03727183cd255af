// The logdet experiment's parameters (suppl. Fig. 9).
import { defineParams, integer, real, seed, ParamError, type ParamsOf } from '../params';
import { checkModel } from './result';

export const logdetParams = defineParams(
  {
    /** test images through the forward pass (the first n of the test split) */
    nTest: integer(0, 100_000, 256),
    /** generated samples; labels cycle through the classes */
    nSamples: integer(0, 10_000, 32),
    /** mixture temperature T of sampling */
    T: real(0, 100, 1),
    /** Gaussian scale s of sampling (multiplies σ) */
    s: real(0, 100, 1),
    /** seeds the dequantization noise, the samples and the permutation test */
    seed: seed(),
    /** |modified z| above this is an outlier; Iglewicz–Hoaglin's 3.5 */
    threshold: real(0, 1000, 3.5),
  },
  (p, model) => {
    checkModel(model);
    if (p.nTest + p.nSamples < 1) throw new ParamError('invalid nTest: nTest and nSamples are both 0 (nothing to measure)');
  },
);

export type LogdetParams = ParamsOf<typeof logdetParams.specs>;
