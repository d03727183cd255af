// The likelihood experiment's parameters (suppl. Table 6).
import { ValueError } from '../../util/validate';
import { defineParams, flag, integer, seed, type ParamsOf } from '../params';
import { checkModel } from './result';

export const likelihoodParams = defineParams(
  {
    /** the first n test images */
    n: integer(1, 100_000, 256),
    /** seeds the uniform dequantization noise */
    seed: seed(),
    /** log p(x | y) with the test labels instead of log p(x) with the null label (class-conditional models) */
    conditional: flag(false),
  },
  (p, model) => {
    checkModel(model);
    if (p.conditional && model.config.num_classes === 0)
      throw new ValueError('invalid conditional: this model is unconditional (num_classes = 0)');
  },
);

export type LikelihoodParams = ParamsOf<typeof likelihoodParams.specs>;
