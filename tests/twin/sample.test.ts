// `python3 -m farmer_torch.sample` as a user runs it on a checkpoint the engine wrote: uint8
// [N, H, W, C] .npy the engine reads, a .png grid of the engine's layout, labels cycling 0..C-1,
// naive and resampling CFG reported in --json, and bad requests refused with one line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readNpy } from '../../src/lib/io/npy';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import { describeTwin, twinMany, type Run } from './twin';

let dir: string, model: string, gaussian: string;
let runs: Run[];
const refusals: [string[], RegExp][] = [];

describeTwin("the twin's sample command", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = tempDir('farmer-twin-sample-');
    const m = writeTinyCheckpoint(dir, 'conditional.safetensors', { blocks: 3 }, 3);
    const g = writeTinyCheckpoint(dir, 'gaussian.safetensors', { prior: 'gaussian', numClasses: 0 }, 4);
    tf.dispose([...m.model.params.values(), ...g.model.params.values()]);
    model = m.path;
    gaussian = g.path;
    refusals.push(
      [[model, '--n', '2', '--class', '7', '--out', join(dir, 'r.npy')], /--class must be in \[0, 2\]/],
      [[model, '--n', '2', '--null', '--cfg', '2', '--out', join(dir, 'r.npy')], /--cfg needs class labels/],
      [
        [gaussian, '--n', '2', '--class', '0', '--out', join(dir, 'r.npy')],
        /this model is unconditional: --class is not allowed/,
      ],
      [[model, '--n', '2', '--out', join(dir, 'r.txt')], /--out must end in \.npy or \.png/],
      [[model, '--n', '2', '--T', '0', '--out', join(dir, 'r.npy')], /--T must be > 0/],
      [
        [model, '--n', '2', '--cfg', '2', '--cfg-params', 'T_q=1', '--out', join(dir, 'r.npy')],
        /--cfg-params: unknown knob "T_q"/,
      ],
      [[join(dir, 'missing.safetensors'), '--n', '2', '--out', join(dir, 'r.npy')], /cannot read/],
    );
    runs = await twinMany([
      ['sample', model, '--n', '7', '--batch', '3', '--seed', '5', '--out', join(dir, 'a.npy'), '--json'],
      ['sample', model, '--n', '7', '--batch', '3', '--seed', '5', '--out', join(dir, 'a.png')],
      [
        'sample',
        model,
        '--n',
        '4',
        '--class',
        '1',
        '--cfg',
        '2',
        '--cfg-method',
        'naive',
        '--out',
        join(dir, 'naive.npy'),
        '--json',
      ],
      [
        'sample',
        model,
        '--n',
        '4',
        '--class',
        '2',
        '--cfg',
        '2.5',
        '--cfg-params',
        's_c=3,T_s=1',
        '--out',
        join(dir, 'res.npy'),
        '--json',
      ],
      ['sample', gaussian, '--n', '3', '--s', '0.7', '--out', join(dir, 'g.npy'), '--json'],
      ...refusals.map(([args]) => ['sample', ...args]),
    ]);
  });

  it('writes uint8 [N, H, W, C] the engine reads, cycling the labels, the same for the same seed', () => {
    expect(runs[0].code, runs[0].stderr).toBe(0);
    const r = JSON.parse(runs[0].stdout) as Record<string, unknown>;
    expect(r).toMatchObject({ n: 7, seed: 5, labels: 'cycle', cfg: null, denoise: false, T: 1, s: 1 });
    const a = readNpy(readFileSync(join(dir, 'a.npy')));
    expect(a.dtype).toBe('|u1');
    expect(a.shape).toEqual([7, 4, 4, 1]);
    expect(new Set(a.data).size).toBeGreaterThan(5);
    // the .png holds the same samples in the engine's grid: 3 columns, 2-pixel black borders
    expect(runs[1].code, runs[1].stderr).toBe(0);
    const png = decode(readFileSync(join(dir, 'a.png')));
    expect([png.width, png.height, png.channels]).toEqual([3 * 6 + 2, 3 * 6 + 2, 1]);
    for (let i = 0; i < 7; i++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 4; x++) {
          const top = 2 + Math.floor(i / 3) * 6,
            left = 2 + (i % 3) * 6;
          expect(png.data[(top + y) * png.width + left + x]).toBe(a.data[(i * 4 + y) * 4 + x]);
        }
  });

  it('guides with naive or resampling CFG and reports the knobs and the fallbacks', () => {
    const naive = JSON.parse(runs[2].stdout) as Record<string, unknown>;
    expect(naive).toMatchObject({ labels: 1, cfg: 2, cfg_method: 'naive', cfg_params: null });
    expect(typeof naive.cfg_fallbacks).toBe('number');
    const res = JSON.parse(runs[3].stdout) as Record<string, unknown>;
    expect(res).toMatchObject({
      labels: 2,
      cfg: 2.5,
      cfg_method: 'resampling',
      cfg_params: { T_pi: 1, T_sigma: 0.9, s_c: 3, s_u: 5, T_pi_v: 0.2, T_sigma_v: 0.9, T_s: 1 },
    });
    expect(readNpy(readFileSync(join(dir, 'res.npy'))).shape).toEqual([4, 4, 4, 1]);
    const g = JSON.parse(runs[4].stdout) as Record<string, unknown>;
    expect(g).toMatchObject({ labels: 'null', s: 0.7, non_finite: [] });
  });

  it('refuses bad requests with one line', () => {
    refusals.forEach(([args, message], i) => {
      const r = runs[5 + i];
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    });
  });
});
