// The command line on tiny checkpoints, run as a user runs it: `node bin/farmer.mjs …`.
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeNpy, readNpy } from '../../src/lib/io/npy';
import { analyzeForward, bitsPerDim } from '../../src/lib/farmer/model';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import type { FarmerModel } from '../../src/lib/farmer/model';
import { Rng } from '../../src/lib/util/random';
import { runFarmer } from '../helpers/cli';
import { rebuild } from '../io/helpers';

const farmer = (...args: string[]) => runFarmer(args);

let dir: string, ckpt: string, model: FarmerModel, uncond: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tempDir();
  ({ path: ckpt, model } = writeTinyCheckpoint(dir, 'tiny.safetensors', { blocks: 3, classConditionalAf: true }));
  ({ path: uncond } = writeTinyCheckpoint(dir, 'uncond.safetensors', { numClasses: 0 }));
});

describe('farmer CLI', () => {
  it('info --json reports config, parameter count and card', async () => {
    const r = await farmer('info', ckpt, '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.config.af.blocks).toBe(3);
    expect(info.parameters).toBe([...model.params.values()].reduce((s, t) => s + t.size, 0));
    expect(info.card.dataset).toBe('random');
  });

  it('forward --inputs --json prints one JSON object per image, equal to the engine in-process', async () => {
    const x = new Rng(4).normals(3 * 16, 0.5);
    writeFileSync(join(dir, 'x.npy'), writeNpy(x, [3, 4, 4, 1]));
    writeFileSync(join(dir, 'y.npy'), writeNpy(new Int32Array([0, -1, 2]), [3]));
    const r = await farmer(
      'forward',
      ckpt,
      '--inputs',
      join(dir, 'x.npy'),
      '--labels',
      join(dir, 'y.npy'),
      '--latents',
      join(dir, 'z.npy'),
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { images: Record<string, number | number[]>[] };
    expect(Object.keys(out)).toEqual(['images']);
    expect(out.images).toHaveLength(3);
    const a = analyzeForward(model, tf.tensor4d(x, [3, 4, 4, 1]), new Int32Array([0, -1, 2]));
    const [ld, lp, lx, nll] = await Promise.all([a.logdet, a.logPrior, a.logPx, a.nllPerDim].map((t) => t.data()));
    out.images.forEach((img, i) => {
      expect(Object.keys(img).sort()).toEqual([
        'bpd',
        'log_prior',
        'log_px',
        'logdet_per_block',
        'logdet_total',
        'nll_per_dim',
      ]);
      expect(img.logdet_total as number).toBeCloseTo(ld[i], 3);
      expect(img.log_prior as number).toBeCloseTo(lp[i], 3);
      expect(img.log_px as number).toBeCloseTo(lx[i], 3);
      expect(img.nll_per_dim as number).toBeCloseTo(nll[i], 4);
      expect(img.bpd as number).toBeCloseTo(bitsPerDim(nll[i]), 4);
      expect((img.logdet_per_block as number[]).reduce((s, v) => s + v)).toBeCloseTo(img.logdet_total as number, 3);
    });
    const z = readNpy(readFileSync(join(dir, 'z.npy')));
    expect(z.shape).toEqual([3, 4, 4]);
  });

  it('forward --images dequantizes uint8 images with the seed', async () => {
    const px = Uint8Array.from({ length: 2 * 16 }, (_, i) => (i * 41) % 256);
    writeFileSync(join(dir, 'px.npy'), writeNpy(px, [2, 4, 4, 1]));
    const a = JSON.parse(
      (await farmer('forward', ckpt, '--images', join(dir, 'px.npy'), '--seed', '3', '--json')).stdout,
    );
    const b = JSON.parse(
      (await farmer('forward', ckpt, '--images', join(dir, 'px.npy'), '--seed', '3', '--json')).stdout,
    );
    const c = JSON.parse(
      (await farmer('forward', ckpt, '--images', join(dir, 'px.npy'), '--seed', '4', '--json')).stdout,
    );
    expect(a).toEqual(b);
    expect(a.images[0].log_px).not.toBe(c.images[0].log_px);
  });

  it('sample writes .npy and .png and reports non-finite samples', async () => {
    const r = await farmer(
      'sample',
      ckpt,
      '--n',
      '3',
      '--class',
      '1',
      '--cfg',
      '2',
      '--cfg-method',
      'naive',
      '--T',
      '1.3',
      '--s',
      '0.9',
      '--seed',
      '7',
      '--out',
      join(dir, 's.npy'),
      '--json',
    );
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.non_finite).toEqual([]);
    const s = readNpy(readFileSync(join(dir, 's.npy')));
    expect(s.shape).toEqual([3, 4, 4, 1]);
    expect(s.dtype).toBe('|u1');
    const g = await farmer(
      'sample',
      ckpt,
      '--n',
      '2',
      '--class',
      '0',
      '--cfg',
      '2.5',
      '--cfg-params',
      's_c=3,T_s=1',
      '--out',
      join(dir, 'g.npy'),
      '--json',
    );
    expect(JSON.parse(g.stdout).cfg_params).toMatchObject({ s_c: 3, s_u: 5, T_s: 1, T_sigma: 0.9 });
    const p = await farmer('sample', ckpt, '--n', '4', '--out', join(dir, 's.png'));
    expect(p.code).toBe(0);
    expect(readFileSync(join(dir, 's.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('bad input exits non-zero with one clear line', { timeout: 600_000 }, async () => {
    const cases: [string[], RegExp][] = [
      [['info', join(dir, 'missing.safetensors')], /not found/],
      [['sample', ckpt, '--n', 'x', '--out', join(dir, 'a.npy')], /invalid --n: "x" \(an integer/],
      [['sample', ckpt, '--n', '2', '--out', join(dir, 'a.txt')], /--out must end in .npy or .png/],
      [['sample', ckpt, '--n', '2', '--class', '7', '--out', join(dir, 'a.npy')], /--class must be in \[0, 2\]/],
      [['forward', ckpt], /exactly one of --images and --inputs/],
      [
        [
          'sample',
          ckpt,
          '--n',
          '2',
          '--class',
          '1',
          '--cfg',
          '2',
          '--cfg-params',
          'T_x=1',
          '--out',
          join(dir, 'a.npy'),
        ],
        /unknown knob "T_x"/,
      ],
      [['forward', ckpt, '--inputs', join(dir, 'px.npy')], /must be float32/],
      [['forward', uncond, '--inputs', join(dir, 'x.npy'), '--labels', join(dir, 'y.npy')], /unconditional model/],
      [['info', ckpt, '--bogus', '1'], /unknown option --bogus/],
      [['nonsense'], /unknown command/],
    ];
    writeFileSync(join(dir, 'bad.safetensors'), new Uint8Array([1, 2, 3]));
    cases.push([['info', join(dir, 'bad.safetensors')], /bad\.safetensors/]);
    // a crafted file whose metadata asks for 10⁹ AF blocks is refused before anything is allocated
    const huge = rebuild(readFileSync(ckpt), (h) => {
      const config = JSON.parse(h.__metadata__.config);
      h.__metadata__.config = JSON.stringify({ ...config, af: { ...config.af, blocks: 1e9 } });
    });
    writeFileSync(join(dir, 'huge.safetensors'), huge);
    cases.push([
      ['forward', join(dir, 'huge.safetensors'), '--inputs', join(dir, 'x.npy')],
      /bad config in metadata: config: af\.blocks must be an integer in \[1, 64\], got 1000000000$/,
    ]);
    const config = JSON.parse(JSON.stringify(model.config));
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ ...config, af: { ...config.af, blockz: 2 } }));
    cases.push([
      ['train', join(dir, 'typo.json'), '--dataset', 'mnist', '--out', join(dir, 't.safetensors'), '--steps', '1'],
      /config: unknown key af\.blockz/,
    ]);
    // four processes at a time, each with room to start on a loaded machine
    const results: Awaited<ReturnType<typeof farmer>>[] = [];
    for (let i = 0; i < cases.length; i += 4)
      results.push(
        ...(await Promise.all(cases.slice(i, i + 4).map(([args]) => runFarmer(args, { timeoutMs: 180_000 })))),
      );
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i];
      expect(r.code, args.join(' ')).not.toBe(0);
      const first = r.stderr.trim().split('\n')[0];
      expect(first, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
