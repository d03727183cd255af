// A cell's parameters on the page: where its values start (the experiment's defaults, the model
// card's recommended sampling settings, the URL, each refused layer named), the one parse with the
// notebook's seed, and the cache key of a run. With the real logdet experiment and a shape-only
// model, as the page has it.
import { describe, expect, it } from 'vitest';
import { experiment as logdet } from '../../src/lib/experiments/logdet';
import { experiment as likelihood } from '../../src/lib/experiments/likelihood';
import { cacheKey } from '../../src/lib/runtime/cache';
import {
  cardRecommendations,
  imageKey,
  parseValues,
  runKey,
  shapeOnly,
  startingValues,
} from '../../src/lib/runtime/cell-params';
import { tinyModel } from '../helpers/tiny';

const model = shapeOnly(tinyModel({ size: 8 }).config);
const gaussianModel = shapeOnly({
  ...model.config,
  dequantization: { kind: 'gaussian', sigma_min: 0.05, sigma_max: 0.1, schedule: 'fixed' },
} as typeof model.config);

describe('starting values', () => {
  it('are the defaults without a seed, then the card, then the URL', () => {
    const d = logdet.params.defaults(model);
    const { seed: _s, ...base } = d;
    expect(startingValues(logdet, model, {}, 3)).toEqual({ values: base, notice: null });
    const card = { sampling: { T: 0.9, s: 0.8, cfg: 2 } };
    const rec = cardRecommendations(logdet, card);
    expect(rec).toEqual({ T: 0.9, s: 0.8 }); // logdet takes T and s from the card, not cfg
    expect(startingValues(logdet, model, { recommended: rec }, 3).values).toMatchObject({ T: 0.9, s: 0.8 });
    expect(
      startingValues(logdet, model, { recommended: rec, url: { s: '0.5', nTest: '7', other: 'x' } }, 3).values,
    ).toMatchObject({ T: 0.9, s: '0.5', nTest: '7' }); // URL values stay text until the one parse
  });

  it('drop a layer that does not parse, saying which and why', () => {
    const out = startingValues(logdet, model, { recommended: { T: 0.9 }, url: { nTest: 'many' } }, 0);
    expect(out.values).toMatchObject({ T: 0.9, nTest: 256 });
    expect(out.notice).toBe(
      'parameters from the URL were not used (invalid nTest: "many" (an integer in [0, 100000]))',
    );
    const refused = startingValues(logdet, model, { recommended: { denoise: true } }, 0);
    expect(refused.notice).toMatch(
      /^the model card’s sampling settings were not used \(invalid denoise: true \(denoising needs a gaussian-dequantized model; this one is uniform\)\)$/,
    );
  });

  it('follow the model: denoising is on by default for a gaussian-dequantized model; a card that cannot be read recommends nothing', () => {
    expect(startingValues(logdet, gaussianModel, {}, 0).values).toMatchObject({ denoise: true });
    expect(startingValues(logdet, model, {}, 0).values).toMatchObject({ denoise: false });
    expect(cardRecommendations(logdet, { sampling: { T: -1 } })).toEqual({});
    expect(cardRecommendations(logdet, {})).toEqual({});
  });

  it('say why a model cannot run the experiment at all', () => {
    const student = shapeOnly({ ...model.config, student: true } as typeof model.config);
    const out = startingValues(likelihood, student, {}, 0);
    expect(out.values).toEqual({ n: 256, conditional: false });
    expect(parseValues(likelihood, student, out.values!, 0)).toEqual({
      ok: false,
      error: expect.stringMatching(/distilled student has none/),
    });
  });
});

describe('parsed values and keys', () => {
  it('parse once, with the notebook seed', () => {
    const parsed = parseValues(logdet, model, { nTest: '5', T: '1.5' }, 7);
    expect(parsed).toEqual({ ok: true, params: { ...logdet.params.defaults(model), nTest: 5, T: 1.5, seed: 7 } });
    expect(parseValues(logdet, model, { nTest: -1 }, 7)).toEqual({
      ok: false,
      error: 'invalid nTest: -1 (an integer in [0, 100000])',
    });
  });

  it('key a run by model hash, cell, parameters without the seed, the seed, and the image', () => {
    const params = { n: 3, seed: 9 };
    expect(runKey('h', 'cell', params, 9, null)).toBe(
      cacheKey({ modelHash: 'h', cellId: 'cell', params: { n: 3 }, seed: 9 }),
    );
    const image = { pixels: new Uint8Array([1, 2, 3, 4]), height: 2, width: 2, channels: 1 };
    const withImage = runKey('h', 'cell', params, 9, image);
    expect(withImage).toBe(
      cacheKey({ modelHash: 'h', cellId: 'cell', params: { n: 3, image_input: imageKey(image) }, seed: 9 }),
    );
    expect(imageKey({ ...image, pixels: new Uint8Array([1, 2, 3, 5]) })).not.toBe(imageKey(image));
    expect(imageKey({ ...image, label: 2 })).not.toBe(imageKey(image));
  });
});
