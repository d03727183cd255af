// `farmer analyze` on tiny 28×28 checkpoints and the first MNIST images, each figure against a
// recomputation of its own: per-label likelihoods from the engine with the test's own argmax and
// means, the swap of an image with itself, pixel counts, slow histogram loops, hand-made logs.
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeForward, disposeAnalysis, type FarmerModel } from '../../src/lib/farmer/model';
import { dequantizeUniform } from '../../src/lib/data/dequantize';
import { loadDataset } from '../../src/node/datasets';
import type { LabelledSet } from '../../src/lib/data/binfile';
import { labelUse } from '../../src/cli/analyze/label-use';
import { redundantContent } from '../../src/cli/analyze/redundant-content';
import { Rng } from '../../src/lib/util/random';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import { runFarmer } from '../helpers/cli';

const tiny28 = { size: 28, patch: 7, numClasses: 10, informative: 4 };
let dir: string, test: LabelledSet, ckpt: string, model: FarmerModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tempDir('farmer-analyze-');
  test = loadDataset('mnist', 'test');
  ({ path: ckpt, model } = writeTinyCheckpoint(dir, 'cond28.safetensors', tiny28, 3));
});

describe('farmer analyze label-use', () => {
  it('equals its own recomputation from per-label log p(x | y), and the CLI prints the same', async () => {
    const n = 12,
      seed = 4,
      C = 10;
    const x = tf.tensor4d(dequantizeUniform(test.images.subarray(0, n * 784), new Rng(seed)), [n, 28, 28, 1]);
    const lp: number[][] = [],
      inf: number[][] = [],
      red: number[][] = [];
    for (let y = 0; y <= C; y++) {
      const a = analyzeForward(model, x, new Int32Array(n).fill(y === C ? -1 : y));
      lp.push(Array.from(await a.logPx.data(), (v) => v / Math.LN2));
      const rows = (t: tf.Tensor2D) =>
        Array.from({ length: n }, (_, i) => t.arraySync()[i].reduce((s, v) => s + v, 0) / Math.LN2);
      inf.push(rows(a.logPriorInformative));
      red.push(rows(a.logPriorRedundant));
      disposeAnalysis(a);
    }
    x.dispose();
    let hits = 0,
      gain = 0,
      best = 0;
    for (let i = 0; i < n; i++) {
      const scores = lp.slice(0, C).map((l) => l[i]);
      const top = scores.indexOf(Math.max(...scores));
      if (top === test.labels[i]) hits++;
      gain += lp[test.labels[i]][i] - lp[C][i];
      best += scores[top] - lp[C][i];
    }
    const r = await labelUse(model, test.images, test.labels, n, seed, 5);
    expect(r).toMatchObject({ n, classes: C, hits, accuracy: hits / n, chance: 0.1 });
    expect(r.true_gain_bits).toBeCloseTo(gain / n, 4);
    expect(r.best_gain_bits).toBeCloseTo(best / n, 4);
    for (const c of r.per_class) {
      const idx = Array.from({ length: n }, (_, i) => i).filter((i) => test.labels[i] === c.class);
      expect(c.images).toBe(idx.length);
      const mean = (t: number[][]) => idx.reduce((s, i) => s + t[c.class][i] - t[C][i], 0) / idx.length;
      expect(c.informative_bits).toBeCloseTo(mean(inf), 3);
      expect(c.redundant_bits).toBeCloseTo(mean(red), 3);
      // the AF is unconditional: the label's whole gain is in the prior's two terms
      expect(c.informative_bits + c.redundant_bits).toBeCloseTo(mean(lp), 3);
    }
    const cli = await runFarmer([
      'analyze',
      'label-use',
      ckpt,
      '--n',
      String(n),
      '--seed',
      String(seed),
      '--backend',
      'cpu',
      '--json',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const j = JSON.parse(cli.stdout);
    expect(j).toMatchObject({ dataset: 'mnist', split: 'test', seed, hits });
    expect(j.true_gain_bits).toBeCloseTo(r.true_gain_bits, 3);
  });

  it('refuses an unconditional model', async () => {
    const { path } = writeTinyCheckpoint(dir, 'uncond28.safetensors', { ...tiny28, numClasses: 0 });
    const r = await runFarmer(['analyze', 'label-use', path, '--n', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('farmer analyze: label use needs a class-conditional model (num_classes = 0)\n');
  });
});

describe('farmer analyze redundant-content', () => {
  it('an image swapped with itself decodes to itself; the counts are those of the pixels', async () => {
    const one = await redundantContent(model, test.images, 1, 5);
    expect(one.next_image_levels).toBe(0);
    expect(one.swap_levels).toBeLessThan(0.05); // the AF inverse of its own latent: float error only
    const n = 6;
    const r = await redundantContent(model, test.images, n, 5);
    const N = 16;
    expect(r.components.reduce((s, k) => s + k.tokens, 0)).toBe(n * N);
    let background = 0;
    for (let b = 0; b < n; b++)
      for (let t = 0; t < N; t++) {
        const [r0, c0] = [Math.floor(t / 4) * 7, (t % 4) * 7];
        let empty = true;
        for (let y = 0; y < 7; y++)
          for (let c = 0; c < 7; c++) if (test.images[b * 784 + (r0 + y) * 28 + c0 + c] > 0) empty = false;
        if (empty) background++;
      }
    expect(r.background_share).toBeCloseTo(background / (n * N), 12);
    // I(component; background) from the reported counts, by the definition Σ p(k, b) log2 p(k, b)/(p(k) p(b))
    const total = n * N,
      pb = background / total;
    let mi = 0;
    for (const k of r.components)
      for (const [joint, marginal] of [
        [k.background, pb],
        [k.tokens - k.background, 1 - pb],
      ])
        if (joint > 0) mi += (joint / total) * Math.log2(joint / total / ((k.tokens / total) * marginal));
    expect(r.mutual_information_bits).toBeCloseTo(mi, 12);
    expect(r.mutual_information_bits).toBeLessThanOrEqual(r.entropy_bits + 1e-12);
    expect(r.entropy_bits).toBeCloseTo(-(pb * Math.log2(pb) + (1 - pb) * Math.log2(1 - pb)), 12);
  });
});

describe('farmer analyze histogram-bpd and training-curves', () => {
  it('histogram-bpd equals slow count loops over the same images', async () => {
    const r = await runFarmer([
      'analyze',
      'histogram-bpd',
      '--dataset',
      'mnist',
      '--n-fit',
      '30',
      '--n-eval',
      '4',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const train = loadDataset('mnist', 'train');
    let perPosition = 0,
      shared = 0;
    const all = new Map<number, number>();
    for (let i = 0; i < 30 * 784; i++) all.set(train.images[i], (all.get(train.images[i]) ?? 0) + 1);
    for (let i = 0; i < 4; i++)
      for (let p = 0; p < 784; p++) {
        const v = test.images[i * 784 + p];
        let count = 0;
        for (let f = 0; f < 30; f++) if (train.images[f * 784 + p] === v) count++;
        perPosition -= Math.log2((count + 0.5) / (30 + 128));
        shared -= Math.log2(((all.get(v) ?? 0) + 0.5) / (30 * 784 + 128));
      }
    expect(j).toMatchObject({ dataset: 'mnist', fitted: 30, evaluated: 4 });
    expect(j.per_position_bpd).toBeCloseTo(perPosition / (4 * 784), 10);
    expect(j.shared_bpd).toBeCloseTo(shared / (4 * 784), 10);
  });

  it('training-curves: window means, medians and skips of hand-made logs', async () => {
    // run a: bpd = 10 − step/100, 300 steps, step 180 skipped; run b: 120 steps of bpd 3
    const a = Array.from({ length: 300 }, (_, i) => ({
      step: i + 1,
      bpd: 10 - (i + 1) / 100,
      images_per_s: i % 2 ? 4 : 8,
      skipped: i + 1 === 180,
    }));
    const b = Array.from({ length: 120 }, (_, i) => ({ step: i + 1, bpd: 3, images_per_s: 5, skipped: false }));
    writeFileSync(join(dir, 'a.jsonl'), a.map((l) => JSON.stringify(l)).join('\n') + '\n');
    writeFileSync(join(dir, 'b.jsonl'), b.map((l) => JSON.stringify(l)).join('\n'));
    const r = await runFarmer([
      'analyze',
      'training-curves',
      `a=${join(dir, 'a.jsonl')}`,
      join(dir, 'b.jsonl'),
      '--every',
      '100',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [ra, rb] = JSON.parse(r.stdout).runs;
    expect(ra).toMatchObject({ name: 'a', steps: 300, median_images_per_s: 6, skipped: 1 });
    // the mean of 10 − s/100 over s = 51…100 is 10 − 0.755; over 151…200 without 180, (50·(10 − 1.755) − 8.2)/49
    expect(ra.bpd.map(([s]: number[]) => s)).toEqual([100, 200, 300]);
    expect(ra.bpd[0][1]).toBeCloseTo(10 - 0.755, 12);
    expect(ra.bpd[1][1]).toBeCloseTo((50 * (10 - 1.755) - 8.2) / 49, 12);
    expect(ra.bpd[2][1]).toBeCloseTo(10 - 2.755, 12);
    expect(rb).toMatchObject({
      name: join(dir, 'b.jsonl'),
      steps: 120,
      median_images_per_s: 5,
      skipped: 0,
      bpd: [[100, 3]],
    });
    const missing = await runFarmer(['analyze', 'training-curves', join(dir, 'none.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`farmer analyze: ${join(dir, 'none.jsonl')}: not found\n`);
  });
});
