// The guidance experiment's parameters (Algorithm 1): the weights become an array here, once.
import { TABLE6_W } from '../../farmer/guidance-preset';
import { choice, defineParams, denoise, integer, numberList, seed, type ParamsOf } from '../params';
import { checkModel } from './result';

export const DEFAULT_WEIGHTS = [0, 1, TABLE6_W, 4];
export const MAX_N = 2000;

export const guidanceParams = defineParams(
  {
    /** guidance weights w ≥ 0; w = 0 is unguided sampling, shared by both methods */
    weights: numberList({ min: 0, max: 50, maxLength: 8 }, DEFAULT_WEIGHTS),
    methods: choice(['both', 'naive', 'resampling'], 'both'),
    /** samples per setting, labels cycling through the classes; also the test images in the FID reference */
    n: integer(2, MAX_N, 100),
    /** finite samples kept per setting for the grid */
    keep: integer(0, 40, 10),
    /** images per sampling call on wasm/cpu (webgpu batches wider); it does not change the samples */
    batch: integer(1, 256, 50),
    seed: seed(),
    /** Tweedie denoising of the samples (gaussian-dequantized models) */
    denoise: denoise(),
  },
  (_p, model) => checkModel(model),
);

export type GuidanceParams = ParamsOf<typeof guidanceParams.specs>;
