// The zoo configurations and the bench-zoo figures: every configs/*.json parses and differs from
// the reference model only where its name says; the bench functions return a median for each
// figure on tiny configurations (their values are timings, so nothing is asserted about them).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyConfig } from '../helpers/tiny';
import { initParams } from '../../src/lib/farmer/params';
import { referenceConfig } from '../../src/lib/farmer/config';
import { countParams, disposeParams } from '../../src/lib/nn/params';
import { benchFid, benchTeacherStudent, benchTrainConfigs, readConfigs } from '../../src/cli/commands/bench-zoo';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('zoo configurations', () => {
  const configs = readConfigs();
  const ref = configs['mnist-farmer-bpd'];

  it('mnist-farmer-bpd is the reference configuration of the benchmarks', () => {
    expect(ref).toEqual(referenceConfig);
  });

  it('mnist-tarflow-bpd has the reference AF and a gaussian prior', () => {
    const c = configs['mnist-tarflow-bpd'];
    expect(c.af).toEqual(ref.af);
    expect(c.prior).toEqual({ kind: 'gaussian' });
    expect(c.image).toEqual(ref.image);
  });

  it('mnist-farmer (generation) differs from the reference in d_I 12, K_R 1 and gaussian dequantization at a fixed sigma', () => {
    const c = configs['mnist-farmer'];
    expect(c.dequantization).toEqual({ kind: 'gaussian', sigma_max: 0.1, sigma_min: 0.1, schedule: 'fixed' });
    expect(c.prior).toMatchObject({ informative_dims: 12, mixtures_redundant: 1 });
    expect({
      ...c,
      dequantization: ref.dequantization,
      prior: { ...c.prior, informative_dims: 4, mixtures_redundant: 16 },
    }).toEqual(ref);
  });

  it("mnist-tarflow (generation) is mnist-farmer's AF, class-conditional, under a gaussian prior, same recipe", () => {
    const c = configs['mnist-tarflow'];
    const f = configs['mnist-farmer'];
    expect(c.prior).toEqual({ kind: 'gaussian' });
    expect(c.af).toEqual({ ...f.af, class_conditional: true });
    expect(c.dequantization).toEqual(f.dequantization);
    expect(c.label_dropout).toEqual(f.label_dropout);
  });

  it('mnist-farmer-k1 is mnist-farmer with one component in both mixtures (the generation recipe, K = 1)', () => {
    const c = configs['mnist-farmer-k1'];
    const f = configs['mnist-farmer'];
    expect(c.prior).toMatchObject({ mixtures_informative: 1, mixtures_redundant: 1 });
    expect({
      ...c,
      prior: { ...c.prior, mixtures_informative: f.prior.kind === 'farmer' ? f.prior.mixtures_informative : 0 },
    }).toEqual(f);
  });

  it('colored-mnist-farmer is mnist-farmer on 3 channels, keeping d_I/d = 3/4', () => {
    const c = configs['colored-mnist-farmer'];
    const f = configs['mnist-farmer'];
    expect(c.image).toEqual({ height: 28, width: 28, channels: 3 });
    expect(c.prior).toMatchObject({ informative_dims: 36 });
    expect({ ...c, image: f.image, prior: { ...c.prior, informative_dims: 12 } }).toEqual(f);
  });
});

describe('bench-zoo', () => {
  it('times a training step per configuration, teacher vs student sampling, and FID', async () => {
    const configs = { a: tinyConfig(), b: tinyConfig({ prior: 'gaussian' }) };
    const before = tf.memory().numTensors;
    const train = await benchTrainConfigs(configs, { batch: 2, reps: 2 });
    expect(Object.keys(train)).toEqual(['a', 'b']);
    for (const [name, cfg] of Object.entries(configs)) {
      const p = initParams(cfg, { seed: 0 });
      expect(train[name].parameters).toBe(countParams(p));
      disposeParams(p);
      expect(train[name].runs_s).toHaveLength(2);
      expect(train[name].images_per_s).toBeGreaterThan(0);
    }
    const ts = await benchTeacherStudent(tinyConfig(), { n: 2, reps: 1 });
    for (const who of [ts.teacher, ts.student])
      for (const t of [who.sample, who.af_inverse]) expect(t.images_per_s).toBeGreaterThan(0);
    expect(Number.isFinite(ts.speedup.sample) && Number.isFinite(ts.speedup.af_inverse)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);

    const fid = benchFid({ n: 200, dims: 16, reps: 3 });
    expect(fid).toMatchObject({ n: 200, dims: 16 });
    expect(fid.runs_s).toHaveLength(3);
    expect(fid.median_s).toBeGreaterThan(0);
  });
});
