// `farmer sample` starts from the card's recommended settings, every option overrides them, and
// the samples equal the engine's own sample() called in-process with the settings it reports
// (one call of the whole run: the batch does not change the samples).
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/lib/io/npy';
import { sample, type SampleOptions } from '../../src/lib/farmer/sampling';
import { cyclingLabels, nullLabels } from '../../src/lib/farmer/labels';
import { modelToPixels } from '../../src/lib/data/dequantize';
import type { FarmerModel } from '../../src/lib/farmer/model';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import { runFarmer } from '../helpers/cli';

const farmer = (...args: string[]) => runFarmer(args);

let dir: string;
let conditional: { path: string; model: FarmerModel };
let gaussian: { path: string; model: FarmerModel };
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tempDir();
  const recommended = { T: 0.7, s: 0.8, cfg: 2, cfg_method: 'naive' };
  conditional = writeTinyCheckpoint(dir, 'cond.safetensors', {}, 1, { sampling: recommended });
  gaussian = writeTinyCheckpoint(
    dir,
    'gauss.safetensors',
    { numClasses: 0, dequantization: { kind: 'gaussian', sigma_min: 0.01, sigma_max: 0.2 } },
    2,
    {
      sampling: { sigma: 0.05 },
    },
  );
});

/** What `farmer sample` should write: sample() in-process, as uint8 pixels. */
async function expected(model: FarmerModel, o: SampleOptions): Promise<number[]> {
  const r = await sample(model, o);
  const px = modelToPixels(await r.images.data(), model.config.dequantization);
  tf.dispose([r.images, r.z]);
  return Array.from(px);
}

async function sampled(args: string[]): Promise<{ info: Record<string, unknown>; pixels: number[] }> {
  const out = join(dir, `${args.join('_').replace(/[^a-z0-9]/gi, '')}.npy`);
  const r = await farmer('sample', ...args, '--out', out, '--json', '--backend', 'cpu');
  expect(r.code, r.stderr).toBe(0);
  return { info: JSON.parse(r.stdout), pixels: Array.from(readNpy(readFileSync(out)).data) };
}

describe("farmer sample and the card's sampling block", () => {
  it("uses the card's settings, cycling the classes, guided by the card's cfg", async () => {
    const { info, pixels } = await sampled([conditional.path, '--n', '4', '--seed', '3']);
    expect(info).toMatchObject({
      T: 0.7,
      s: 0.8,
      T_red: 0.7,
      s_red: 0.8,
      cfg: 2,
      cfg_method: 'naive',
      labels: 'cycling 0..2',
      denoise_sigma: null,
    });
    expect(pixels).toEqual(
      await expected(conditional.model, {
        n: 4,
        seed: 3,
        labels: cyclingLabels(4, 3),
        T: 0.7,
        s: 0.8,
        cfg: { method: 'naive', w: 2 },
      }),
    );
  });

  it('lets every option override the card: --T, --cfg 0, --class', async () => {
    const { info, pixels } = await sampled([
      conditional.path,
      '--n',
      '3',
      '--seed',
      '5',
      '--T',
      '1.2',
      '--cfg',
      '0',
      '--class',
      '2',
    ]);
    expect(info).toMatchObject({
      T: 1.2,
      s: 0.8,
      T_red: 1.2,
      cfg: null,
      cfg_method: null,
      labels: 'class 2',
      class: 2,
    });
    expect(pixels).toEqual(
      await expected(conditional.model, { n: 3, seed: 5, labels: new Int32Array(3).fill(2), T: 1.2, s: 0.8 }),
    );
  });

  it('--sample-labels null draws unguided from the null label', async () => {
    const { info, pixels } = await sampled([conditional.path, '--n', '3', '--sample-labels', 'null']);
    expect(info).toMatchObject({ labels: 'null', cfg: null });
    expect(pixels).toEqual(await expected(conditional.model, { n: 3, seed: 0, labels: nullLabels(3), T: 0.7, s: 0.8 }));
    const refused = await farmer(
      'sample',
      conditional.path,
      '--n',
      '2',
      '--sample-labels',
      'null',
      '--cfg',
      '2',
      '--out',
      join(dir, 'x.npy'),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n')[0]).toMatch(
      /invalid cfg: 2 \(guidance needs class labels: not with the null label\)/,
    );
  });

  it("denoises a gaussian-dequantized model with the card's σ by default, and not with --no-denoise", async () => {
    const on = await sampled([gaussian.path, '--n', '2', '--seed', '1']);
    expect(on.info.denoise_sigma).toBe(0.05);
    expect(on.pixels).toEqual(await expected(gaussian.model, { n: 2, seed: 1, denoiseSigma: 0.05 }));
    const off = await sampled([gaussian.path, '--n', '2', '--seed', '1', '--no-denoise']);
    expect(off.info.denoise_sigma).toBeNull();
    expect(off.pixels).toEqual(await expected(gaussian.model, { n: 2, seed: 1 }));
    const uniform = await farmer('sample', conditional.path, '--n', '1', '--denoise', '--out', join(dir, 'y.npy'));
    expect(uniform.code).toBe(2);
    expect(uniform.stderr).toMatch(/denoising needs a gaussian-dequantized model/);
  });
});
