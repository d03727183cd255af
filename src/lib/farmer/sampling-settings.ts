// A model's sampling settings (docs/model.md, "Recommended settings"): the card's `sampling`
// block, with the settings the model's author recommends and the σ of its last training step,
// and how a sampler resolves them against explicit options. No tfjs here: the app reads it too.
import type { Dequantization, FarmerConfig } from './config';
import type { CfgMethod } from './sampling';
import { trainingSigma } from '../data/dequantize';
import { checkChoice, checkNumber, ValueError } from '../util/validate';

/** The card's `sampling` block; every field optional. */
export interface CardSampling {
  /** mixture temperature T */
  T?: number;
  /** Gaussian scale s */
  s?: number;
  /** T and s of the redundant group */
  T_R?: number;
  s_R?: number;
  /** Tweedie denoising of a gaussian-dequantized model's samples */
  denoise?: boolean;
  cfg_method?: CfgMethod;
  /** guidance weight w for class-conditional samples; 0 = unguided */
  cfg?: number;
  /** the dequantization σ of the model's last training step: the σ of the Tweedie step */
  sigma?: number;
}

const CFG_METHODS = ['naive', 'resampling'] as const;
const NUMBERS = {
  T: { above: 0 },
  s: { above: 0 },
  T_R: { above: 0 },
  s_R: { above: 0 },
  cfg: { min: 0 },
  sigma: { above: 0 },
} as const;
export const CARD_SAMPLING_KEYS = ['T', 's', 'T_R', 's_R', 'denoise', 'cfg_method', 'cfg', 'sigma'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a sampling block (JSON values, or the text of `key=value` options) and returns it with
 * typed values; an unknown key or a bad value is a ValueError naming it.
 */
export function parseCardSampling(raw: unknown, where = 'card.sampling'): CardSampling {
  if (!isObject(raw)) throw new ValueError(`invalid ${where}: ${JSON.stringify(raw)} (an object)`);
  const out: CardSampling = {};
  for (const [key, v] of Object.entries(raw)) {
    const name = `${where}.${key}`;
    if (key in NUMBERS) out[key as keyof typeof NUMBERS] = checkNumber(name, v, NUMBERS[key as keyof typeof NUMBERS]);
    else if (key === 'cfg_method') out.cfg_method = checkChoice(name, v, CFG_METHODS);
    else if (key === 'denoise') {
      if (v !== true && v !== false && v !== 'true' && v !== 'false')
        throw new ValueError(`invalid ${name}: ${JSON.stringify(v)} (true or false)`);
      out.denoise = v === true || v === 'true';
    } else throw new ValueError(`invalid ${where}: unknown key "${key}" (known: ${CARD_SAMPLING_KEYS.join(', ')})`);
  }
  return out;
}

/** `T=0.9,s=0.8,cfg=2.5` → the same block as parseCardSampling reads it from JSON. */
export function parseSamplingText(text: string, where = 'sampling'): CardSampling {
  const raw: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new ValueError(`invalid ${where}: "${part}" (key=value)`);
    raw[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return parseCardSampling(raw, where);
}

/** The card's sampling block, checked; {} when the card has none. */
export function cardSampling(card: Record<string, unknown>): CardSampling {
  return card.sampling === undefined ? {} : parseCardSampling(card.sampling);
}

/** The σ the Tweedie step uses: the card's record of the last training step, else the schedule's end. */
export function finalSigma(dq: Dequantization, card: CardSampling = {}): number | null {
  if (dq.kind !== 'gaussian') return null;
  return card.sigma ?? trainingSigma(dq, 1);
}

/** The Tweedie step needs gaussian dequantization and a likelihood (a distilled student has none). */
function canDenoise(config: FarmerConfig): boolean {
  return config.dequantization.kind === 'gaussian' && !config.student;
}

function cannotDenoise(config: FarmerConfig): string {
  return config.student
    ? 'a distilled student has no likelihood to denoise with'
    : `denoising needs a gaussian-dequantized model; this one is ${config.dequantization.kind}`;
}

/** Refuses a block that recommends what this model cannot do (before it is written into a card). */
export function checkCardSampling(config: FarmerConfig, card: CardSampling, where = 'card.sampling'): void {
  if (card.denoise && !canDenoise(config))
    throw new ValueError(`invalid ${where}.denoise: true (${cannotDenoise(config)})`);
  if (card.cfg && config.num_classes === 0)
    throw new ValueError(`invalid ${where}.cfg: ${card.cfg} (guidance needs a class-conditional model)`);
  if (card.sigma !== undefined && config.dequantization.kind !== 'gaussian')
    throw new ValueError(`invalid ${where}.sigma: ${card.sigma} (only gaussian-dequantized models have a training σ)`);
}

/** Options given explicitly (command-line flags, page controls); each one overrides the card. */
export interface SamplingRequest {
  T?: number;
  s?: number;
  TRed?: number;
  sRed?: number;
  denoise?: boolean;
  cfg?: number;
  cfgMethod?: CfgMethod;
  /** `class`: every sample has a class label (cycling or one class); `null`: the null label (unguided) */
  labels: 'class' | 'null';
}

/** What a sampler runs with. */
export interface SamplingSettings {
  T: number;
  s: number;
  TRed: number;
  sRed: number;
  /** guidance weight; null = unguided */
  cfg: number | null;
  cfgMethod: CfgMethod;
  /** σ of the Tweedie step; null = no denoising */
  denoiseSigma: number | null;
}

/**
 * The card's recommended settings overridden by every explicit option, then the defaults:
 * T = s = 1, (T_R, s_R) = (T, s), denoising on for gaussian-dequantized models (not students),
 * guidance only for class-conditional samples with class labels. Asking for what the model
 * cannot do is a ValueError.
 */
export function resolveSampling(config: FarmerConfig, card: CardSampling, asked: SamplingRequest): SamplingSettings {
  const T = asked.T ?? card.T ?? 1;
  const s = asked.s ?? card.s ?? 1;
  const denoise = asked.denoise ?? card.denoise ?? canDenoise(config);
  if (denoise && !canDenoise(config)) throw new ValueError(`invalid denoise: true (${cannotDenoise(config)})`);
  const guidable = config.num_classes > 0 && asked.labels === 'class';
  if (asked.cfg && !guidable)
    throw new ValueError(
      `invalid cfg: ${asked.cfg} (guidance needs class labels: ${config.num_classes === 0 ? 'this model is unconditional' : 'not with the null label'})`,
    );
  const cfg = guidable ? (asked.cfg ?? card.cfg ?? 0) : 0;
  return {
    T,
    s,
    TRed: asked.TRed ?? card.T_R ?? T,
    sRed: asked.sRed ?? card.s_R ?? s,
    cfg: cfg > 0 ? cfg : null,
    cfgMethod: asked.cfgMethod ?? card.cfg_method ?? 'resampling',
    denoiseSigma: denoise ? finalSigma(config.dequantization, card) : null,
  };
}
