import { describe, expect, it } from 'vitest';
import { cardLineage, cardLines, duration } from '../../src/lib/io/card-text';

describe('cardLines', () => {
  it('reads a trained and evaluated card: steps and time, weights, curve, evaluation with its feature network and n', () => {
    const card = {
      dataset: 'mnist',
      steps: 3900,
      time_s: 13_000,
      seed: 0,
      weights: 'raw, not EMA',
      train: {
        options: { batch: 32, lr: 0.001, warmup: 200, steps: 6000, ema: 0.999 },
        skipped_steps: 2,
        curve_bpd: [
          [38, 8.4119],
          [3900, 2.25],
        ],
      },
      metrics: {
        eval: {
          feature_net: { name: 'mnist-cnn' },
          bpd: { value: 2.31234, n: 10000, labels: 'null', seed: 0 },
          sampling: { n: 1000, finite: 990, T: 1, s: 1, cfg: null },
          fid: { value: 321.04 },
          is: { value: 2.345 },
          precision: { value: 0.91 },
          recall: { value: 0.0012 },
        },
        note: 'x',
      },
    };
    expect(cardLines(card)).toEqual([
      'card: dataset mnist, 3900 steps (3 h 37 min), seed 0',
      'weights: raw, not EMA',
      'training BPD 8.412 (step 38) → 2.250 (step 3900); batch 32, lr 0.001, warm-up 200, cosine over 6000 steps, EMA 0.999; 2 non-finite steps skipped',
      'test BPD 2.3123 (n = 10000 test images, null label, seed 0)',
      'FID 321.0 / IS 2.35 / precision 0.910 / recall 0.001 (mnist-cnn features, not Inception; 990 finite of 1000 samples, T = 1, s = 1)',
      'note: x',
    ]);
  });

  it('reads a student card, and a bare one', () => {
    const student = {
      dataset: 'mnist',
      steps: 500,
      time_s: 1500,
      seed: 0,
      metrics: {},
      teacher: { name: 'mnist-farmer', sha256: '0123456789abcdef', steps: 3900 },
      distill: { first_loss: 460.5, last50_loss: 0.8123 },
    };
    expect(cardLines(student)).toEqual([
      'card: dataset mnist, 500 steps (25 min), seed 0',
      'distilled from mnist-farmer (sha256 0123456789ab…, 3900 steps)',
      'distillation loss 460.5 → 0.8123 (mean of the last 50 steps)',
    ]);
    expect(cardLines({ dataset: 'random', steps: 0, time_s: 0, seed: 1, metrics: {} })).toEqual([
      'card: dataset random, 0 steps (0 min), seed 1',
    ]);
    expect(duration(59 * 60)).toBe('59 min');
    expect(duration(61 * 60)).toBe('1 h 01 min');
  });

  it('reads the lineage a trainer records (farmer train, farmer_torch, a student) and the sampling block', () => {
    const base = { dataset: 'mnist', steps: 10, time_s: 60, seed: 2, metrics: {} };
    const torch = {
      ...base,
      train: {
        trainer: 'farmer_torch',
        device: 'cuda',
        world_size: 8,
        init: { source: 'static/models/mnist-farmer.safetensors', steps: 3900 },
      },
      sampling: { T: 0.9, cfg: 2.5 },
    };
    expect(cardLineage(torch)).toEqual({
      trainer: 'farmer_torch',
      device: 'cuda',
      world_size: 8,
      init: { source: 'static/models/mnist-farmer.safetensors', steps: 3900 },
    });
    expect(cardLines(torch)).toEqual([
      'card: dataset mnist, 10 steps (1 min), seed 2',
      'lineage: trainer farmer_torch, device cuda, world size 8, continued from static/models/mnist-farmer.safetensors (3900 steps)',
      'sampling: T = 0.9, cfg = 2.5',
    ]);
    const student = { ...base, distill: { trainer: 'farmer distill', device: 'wasm', world_size: 1 } };
    expect(cardLineage(student)).toEqual({ trainer: 'farmer distill', device: 'wasm', world_size: 1, init: null });
    // an older card without lineage fields, and one with only an init
    expect(cardLineage({ ...base, train: { options: {} } })).toBeNull();
    expect(cardLines({ ...base, train: { init: { source: 'a.safetensors', steps: 5 } } })[1]).toBe(
      'lineage: continued from a.safetensors (5 steps)',
    );
  });
});
