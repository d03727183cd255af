// The distillation experiment's parameters (Algorithm 2).
import { defineParams, integer, seed, type ParamsOf } from '../params';
import { checkModel } from './result';

export const MAX_N = 1000;

export const distillParams = defineParams(
  {
    /** samples, labels cycling through the classes; also the test images in the FID reference */
    n: integer(2, MAX_N, 64),
    /** samples shown as teacher / student / difference columns */
    keep: integer(0, 32, 8),
    /** decodes timed per decoder; the median counts */
    repeats: integer(1, 9, 3),
    seed: seed(),
  },
  (_p, model) => checkModel(model),
);

export type DistillParams = ParamsOf<typeof distillParams.specs>;
