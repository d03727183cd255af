// Resampling CFG's knobs and the paper's Table 6 preset, apart from the guidance code (which
// imports TensorFlow.js through gmm.ts), so pages can name them without loading it.

/** Algorithm 1's knobs (Table 6 presets by default). */
export interface ResamplingParams {
  /** multiplies the proposal logits */
  T_pi: number;
  /** multiplies the proposal σ */
  T_sigma: number;
  /** conditional candidates per token */
  s_c: number;
  /** unconditional candidates per token */
  s_u: number;
  /** multiplies the logits when scoring */
  T_pi_v: number;
  /** multiplies σ when scoring */
  T_sigma_v: number;
  /** multiplies the resampling log-weights */
  T_s: number;
}

export const TABLE6_PRESET: ResamplingParams = {
  T_pi: 1.0,
  T_sigma: 0.9,
  s_c: 5,
  s_u: 5,
  T_pi_v: 0.2,
  T_sigma_v: 0.9,
  T_s: 1.1,
};
export const TABLE6_W = 2.5;
