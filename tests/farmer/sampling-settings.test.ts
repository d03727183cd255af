// A card's sampling block, how explicit options override it, the dequantization schedule, and the
// Tweedie step with the σ the card records.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type FarmerConfig } from '../../src/lib/farmer/config';
import {
  cardSampling,
  checkCardSampling,
  finalSigma,
  parseCardSampling,
  parseSamplingText,
  resolveSampling,
} from '../../src/lib/farmer/sampling-settings';
import { initParams } from '../../src/lib/farmer/params';
import { makeModel } from '../../src/lib/farmer/model';
import { sample, tweedieDenoise } from '../../src/lib/farmer/sampling';
import { parseCard } from '../../src/lib/io/checkpoint';
import { tinyConfig } from '../helpers/tiny';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const gaussianDq = (extra: Record<string, unknown> = {}) => ({
  kind: 'gaussian',
  sigma_min: 0.01,
  sigma_max: 0.2,
  ...extra,
});

function withDq(cfg: FarmerConfig, dq: unknown): FarmerConfig {
  return parseConfig({ ...JSON.parse(JSON.stringify(cfg)), dequantization: dq });
}

describe('the gaussian dequantization config', () => {
  it('reads schedule cosine or fixed, cosine when absent (older configs stay valid)', () => {
    const base = tinyConfig();
    expect(withDq(base, gaussianDq()).dequantization).toEqual({
      kind: 'gaussian',
      sigma_min: 0.01,
      sigma_max: 0.2,
      schedule: 'cosine',
    });
    expect(withDq(base, gaussianDq({ schedule: 'fixed' })).dequantization).toMatchObject({ schedule: 'fixed' });
    expect(() => withDq(base, gaussianDq({ schedule: 'linear' }))).toThrow(
      /dequantization\.schedule must be "cosine" or "fixed", got "linear"/,
    );
  });

  it("ends at σ_min (cosine) or σ_max (fixed) unless the card records the last step's σ", () => {
    const base = tinyConfig();
    expect(finalSigma(withDq(base, gaussianDq()).dequantization)).toBe(0.01);
    expect(finalSigma(withDq(base, gaussianDq({ schedule: 'fixed' })).dequantization)).toBe(0.2);
    expect(finalSigma(withDq(base, gaussianDq()).dequantization, { sigma: 0.07 })).toBe(0.07);
    expect(finalSigma(base.dequantization)).toBeNull();
  });
});

describe("the card's sampling block", () => {
  it('parses JSON values and key=value text alike, refusing unknown keys and bad values by name', () => {
    const block = { T: 0.9, s: 0.8, T_R: 1.1, s_R: 0.7, denoise: false, cfg_method: 'naive', cfg: 2.5, sigma: 0.05 };
    expect(parseCardSampling(block)).toEqual(block);
    expect(parseSamplingText('T=0.9,s=0.8,T_R=1.1,s_R=0.7,denoise=false,cfg_method=naive,cfg=2.5,sigma=0.05')).toEqual(
      block,
    );
    expect(() => parseCardSampling({ temperature: 1 })).toThrow(
      'invalid card.sampling: unknown key "temperature" (known: T, s, T_R, s_R, denoise, cfg_method, cfg, sigma)',
    );
    expect(() => parseCardSampling({ T: 0 })).toThrow('invalid card.sampling.T: 0 (a number > 0)');
    expect(() => parseCardSampling({ cfg: -1 })).toThrow('invalid card.sampling.cfg: -1 (a number ≥ 0)');
    expect(() => parseCardSampling({ cfg_method: 'greedy' })).toThrow(
      'invalid card.sampling.cfg_method: "greedy" (one of naive, resampling)',
    );
    expect(() => parseCardSampling({ denoise: 'yes' })).toThrow('invalid card.sampling.denoise: "yes" (true or false)');
    expect(() => parseSamplingText('T', '--sampling')).toThrow('invalid --sampling: "T" (key=value)');
    expect(() =>
      parseCard({ dataset: 'mnist', steps: 1, time_s: 1, seed: 0, metrics: {}, sampling: { x: 1 } }),
    ).toThrow(/unknown key "x"/);
  });

  it('refuses to recommend what the model cannot do', () => {
    const uniform = tinyConfig({ numClasses: 0 });
    expect(() => checkCardSampling(uniform, { denoise: true })).toThrow(/denoising needs a gaussian-dequantized model/);
    expect(() => checkCardSampling(uniform, { cfg: 2 })).toThrow(/guidance needs a class-conditional model/);
    expect(() => checkCardSampling(uniform, { sigma: 0.1 })).toThrow(/only gaussian-dequantized models/);
    const student = { ...withDq(tinyConfig(), gaussianDq()), student: true };
    expect(() => checkCardSampling(student, { denoise: true })).toThrow(/a distilled student has no likelihood/);
  });
});

describe('resolveSampling', () => {
  const conditional = withDq(tinyConfig(), gaussianDq());
  const card = { T: 0.7, s: 0.8, cfg: 2, cfg_method: 'naive' as const, sigma: 0.05 };

  it('starts from the card; every explicit option overrides it; then the defaults', () => {
    expect(resolveSampling(conditional, card, { labels: 'class' })).toEqual({
      T: 0.7,
      s: 0.8,
      TRed: 0.7,
      sRed: 0.8,
      cfg: 2,
      cfgMethod: 'naive',
      denoiseSigma: 0.05,
    });
    expect(resolveSampling(conditional, card, { labels: 'class', T: 1.2, sRed: 0.5, cfg: 0, denoise: false })).toEqual({
      T: 1.2,
      s: 0.8,
      TRed: 1.2,
      sRed: 0.5,
      cfg: null,
      cfgMethod: 'naive',
      denoiseSigma: null,
    });
    expect(resolveSampling(tinyConfig(), {}, { labels: 'class' })).toEqual({
      T: 1,
      s: 1,
      TRed: 1,
      sRed: 1,
      cfg: null,
      cfgMethod: 'resampling',
      denoiseSigma: null,
    });
    // no σ recorded: the end of the schedule
    expect(resolveSampling(conditional, {}, { labels: 'class' }).denoiseSigma).toBe(0.01);
  });

  it('draws unguided with the null label, and refuses guidance or denoising the model cannot do', () => {
    expect(resolveSampling(conditional, card, { labels: 'null' }).cfg).toBeNull();
    expect(() => resolveSampling(conditional, card, { labels: 'null', cfg: 2 })).toThrow(
      /invalid cfg: 2 \(guidance needs class labels: not with the null label\)/,
    );
    expect(() => resolveSampling(tinyConfig({ numClasses: 0 }), {}, { labels: 'null', cfg: 1 })).toThrow(
      /this model is unconditional/,
    );
    expect(() => resolveSampling(tinyConfig(), {}, { labels: 'class', denoise: true })).toThrow(
      /denoising needs a gaussian-dequantized model; this one is uniform/,
    );
    expect(resolveSampling({ ...conditional, student: true }, {}, { labels: 'class' }).denoiseSigma).toBeNull();
  });

  it('reads a card without a block as {}', () => {
    expect(cardSampling({ dataset: 'x' })).toEqual({});
    expect(cardSampling({ sampling: { T: 2 } })).toEqual({ T: 2 });
  });
});

describe('the Tweedie step', () => {
  // An identity flow (zero affine outputs) under a standard Gaussian prior: log p(x) = Σ log N(x; 0, 1),
  // so ∇ log p(x) = −x and x̂ = x + σ²·(−x) = (1 − σ²)·x exactly.
  const cfg = withDq(tinyConfig({ prior: 'gaussian', numClasses: 0 }), gaussianDq());
  const model = makeModel(cfg, initParams(cfg, { seed: 1, projOutStd: 0 }));

  it('moves x by σ²·∇log p(x): (1 − σ²)·x for an identity flow with a Gaussian prior', async () => {
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 16 }, (_, i) => Math.sin(i) * 0.8),
      [2, 4, 4, 1],
    );
    const y = tweedieDenoise(model, x, null, 0.3);
    const [xv, yv] = [await x.data(), await y.data()];
    for (let i = 0; i < xv.length; i++) expect(yv[i]).toBeCloseTo((1 - 0.09) * xv[i], 5);
    tf.dispose([x, y]);
  });

  it('sample() applies it with the σ it is given, and not at all without one', async () => {
    const plain = await sample(model, { n: 3, seed: 4 });
    const denoised = await sample(model, { n: 3, seed: 4, denoiseSigma: 0.2 });
    const [a, b] = [await plain.images.data(), await denoised.images.data()];
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(0.96 * a[i], 5);
    tf.dispose([plain.images, plain.z, denoised.images, denoised.z]);
  });
});
