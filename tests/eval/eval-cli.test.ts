// `farmer eval` end to end on a tiny random 28×28 checkpoint and the first 64 MNIST test images:
// its BPD is the mean of the BPDs `farmer forward` prints for the same images and seed, and the
// sample metrics name their feature network and count the non-finite samples they leave out.
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import { writeNpy } from '../../src/lib/io/npy';
import { loadDataset } from '../../src/node/datasets';
import { createClassifier } from '../../src/lib/metrics/classifier';
import { encodeFeatureNet } from '../../src/lib/metrics/features';
import { Rng } from '../../src/lib/util/random';
import { runFarmer } from '../helpers/cli';

const farmer = (...args: string[]) => runFarmer(args);

const N = 64;
let dir: string, ckpt: string, uncond: string, features: string, slice: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tempDir('farmer-eval-');
  const tiny28 = { size: 28, patch: 7, numClasses: 10, informative: 4 };
  ({ path: ckpt } = writeTinyCheckpoint(dir, 'cond.safetensors', tiny28));
  ({ path: uncond } = writeTinyCheckpoint(dir, 'uncond.safetensors', { ...tiny28, numClasses: 0, prior: 'gaussian' }));
  // A random (untrained) feature network with the MNIST feature network's shape: the pipeline, not the values, is under test.
  const net = createClassifier({ height: 28, width: 28, channels: 1, heads: { digit: 10 } }, new Rng(5));
  features = join(dir, 'features.safetensors');
  writeFileSync(features, encodeFeatureNet(net, { dataset: 'testnet' }));
  net.dispose();
  const test = loadDataset('mnist', 'test');
  slice = join(dir, 'first64.npy');
  writeFileSync(slice, writeNpy(test.images.subarray(0, N * 784), [N, 28, 28, 1]));
});

describe('farmer eval', () => {
  it('BPD equals the mean of farmer forward BPDs; FID/IS/P–R are labelled and count non-finite samples', async () => {
    const [ev, fw] = await Promise.all([
      farmer(
        'eval',
        ckpt,
        '--dataset',
        'mnist',
        '--split',
        'test',
        '--n',
        String(N),
        '--seed',
        '3',
        '--batch',
        '32',
        '--features',
        features,
        '--json',
      ),
      farmer('forward', ckpt, '--images', slice, '--seed', '3', '--json'),
    ]);
    expect(ev.code, ev.stderr).toBe(0);
    expect(fw.code, fw.stderr).toBe(0);
    const r = JSON.parse(ev.stdout);
    const bpds = (JSON.parse(fw.stdout).images as { bpd: number }[]).map((i) => i.bpd);
    expect(bpds).toHaveLength(N);
    const mean = bpds.reduce((s, b) => s + b, 0) / N;
    expect(r.bpd.n).toBe(N);
    expect(r.bpd.labels).toBe('null');
    expect(Math.abs(r.bpd.value - mean)).toBeLessThan(1e-4 * mean);

    const s = r.sampling;
    expect(s.n).toBe(N);
    expect(s.finite + s.non_finite).toBe(N);
    expect(s.non_finite_indices).toHaveLength(s.non_finite);
    expect(s.labels).toBe('cycling 0..9');
    expect(s.seconds).toBeGreaterThan(0);
    expect(r.feature_net).toMatchObject({ name: 'testnet-cnn', inception: false });
    expect(s.finite).toBeGreaterThan(3); // this tiny model leaves enough finite samples for every metric
    expect(r.fid.label).toBe('FID (testnet-cnn features, not Inception)');
    expect(r.fid).toMatchObject({ n_real: N, n_fake: s.finite });
    expect(r.fid.value).toBeGreaterThanOrEqual(0);
    expect(r.is.label).toMatch(/not Inception/);
    expect(r.is.value).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(r.is.value).toBeLessThanOrEqual(10 + 1e-9);
    for (const m of [r.precision, r.recall]) {
      expect(m).toMatchObject({ n_real: N, n_fake: s.finite, k: 3 });
      expect(m.value).toBeGreaterThanOrEqual(0);
      expect(m.value).toBeLessThanOrEqual(1);
    }
  });

  it("--sample-labels null draws a conditional model's samples with the null label: no class agreement", async () => {
    const r = await farmer(
      'eval',
      ckpt,
      '--dataset',
      'mnist',
      '--n',
      '16',
      '--is',
      '--sample-labels',
      'null',
      '--features',
      features,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.sampling.labels).toBe('null');
    expect(j.class_agreement).toBeNull();
    expect(j.confident.n_fake).toBe(j.sampling.finite);
    const c = JSON.parse(
      (await farmer('eval', ckpt, '--dataset', 'mnist', '--n', '16', '--is', '--features', features, '--json')).stdout,
    );
    expect(c.sampling.labels).toBe('cycling 0..9');
    expect(c.class_agreement.n_fake).toBe(c.sampling.finite);
  });

  it("samples with the card's recommended settings unless an option overrides them, as farmer sample does", async () => {
    const { path } = writeTinyCheckpoint(
      dir,
      'recommended.safetensors',
      { size: 28, patch: 7, numClasses: 10, informative: 4 },
      1,
      { sampling: { T: 0.9, cfg: 1.5 } },
    );
    const [card, given] = await Promise.all([
      farmer('eval', path, '--dataset', 'mnist', '--n', '8', '--is', '--features', features, '--json'),
      farmer(
        'eval',
        path,
        '--dataset',
        'mnist',
        '--n',
        '8',
        '--is',
        '--features',
        features,
        '--T',
        '1.1',
        '--cfg',
        '0',
        '--json',
      ),
    ]);
    expect(card.code, card.stderr).toBe(0);
    expect(JSON.parse(card.stdout).sampling).toMatchObject({
      T: 0.9,
      s: 1,
      T_red: 0.9,
      cfg: 1.5,
      cfg_method: 'resampling',
      denoise_sigma: null,
    });
    expect(JSON.parse(given.stdout).sampling).toMatchObject({ T: 1.1, T_red: 1.1, cfg: null, cfg_method: null });
  });

  it('prints a table for people; an unconditional model is evaluated without labels', async () => {
    const r = await farmer('eval', uncond, '--dataset', 'mnist', '--n', '8', '--n-bpd', '12', '--bpd');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^BPD \(uniform dequantization\)\s+\d+\.\d{4}\s+n = 12 test images, unconditional, seed 0/m,
    );
    expect(r.stdout).not.toMatch(/FID/);
  });

  it('bad arguments exit non-zero with one clear line', async () => {
    const cases: [string[], RegExp, number][] = [
      [
        ['eval', ckpt, '--dataset', 'cifar10', '--bpd'],
        /invalid --dataset: "cifar10" \(one of mnist, colored-mnist\)/,
        2,
      ],
      [
        ['eval', ckpt, '--dataset', 'mnist', '--bpd', '--n-bpd', '10001'],
        /--n-bpd 10001 is more than the 10000 images of mnist\/test/,
        2,
      ],
      [['eval', join(dir, 'missing.safetensors'), '--dataset', 'mnist'], /model file not found/, 1],
      [
        ['eval', ckpt, '--dataset', 'mnist', '--fid', '--features', join(dir, 'nope.safetensors')],
        /no usable feature network for mnist/,
        1,
      ],
      [
        ['eval', ckpt, '--dataset', 'mnist', '--is', '--sample-labels', 'some'],
        /invalid --sample-labels: "some" \(one of cycling, null\)/,
        2,
      ],
      [
        ['eval', ckpt, '--dataset', 'mnist', '--is', '--sample-labels', 'null', '--cfg', '2'],
        /--cfg needs class labels/,
        2,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => farmer(...args)));
    for (const [i, [args, message, code]] of cases.entries()) {
      const r = results[i];
      expect(r.code, args.join(' ')).toBe(code);
      const line = r.stderr.split('\n').find((l) => l.startsWith('farmer eval:'));
      expect(line, r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
