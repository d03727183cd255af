// The redundant-variance experiment's parameters (v2 Fig. 7): the scales become an array here, once.
import { defineParams, fromCard, integer, numberList, real, seed, type ParamsOf } from '../params';
import { checkModel } from './result';

/** The paper's s_R values. */
export const PAPER_SCALES = [0, 0.2, 0.4, 0.8, 1, 1.2, 1.5, 2, 4];

export const redundantParams = defineParams(
  {
    /** s_R values: the redundant GMM's standard deviations are scaled by each */
    scales: numberList({ min: 0, max: 100, maxLength: 16 }, PAPER_SCALES),
    /** samples per row (labels cycle through the classes) */
    n: integer(1, 64, 8),
    /** mixture temperature T of both groups; the model card may recommend one */
    T: fromCard('T', real(0, 100, 1)),
    /** Gaussian scale s of the informative group; the model card may recommend one */
    s: fromCard('s', real(0, 100, 1)),
    seed: seed(),
  },
  (_p, model) => checkModel(model),
);

export type RedundantParams = ParamsOf<typeof redundantParams.specs>;
