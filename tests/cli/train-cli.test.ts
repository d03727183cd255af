// `farmer train` as a user runs it, on MNIST with a tiny 28×28 config: a run, an exact resume,
// a continuation from trained weights, and bad arguments.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/lib/io/checkpoint';
import { tempDir } from '../helpers/files';
import { runFarmer } from '../helpers/cli';
import { tinyMnistConfigJson as config } from '../helpers/tiny-mnist';

const farmer = (...args: string[]) => runFarmer(args, { timeoutMs: 120_000 });

describe('farmer train', () => {
  it('trains, resumes, continues from weights, and refuses bad input', async () => {
    const dir = tempDir();
    const cfgPath = join(dir, 'tiny.json');
    writeFileSync(cfgPath, JSON.stringify(config));
    const out = join(dir, 'm.safetensors');
    const common = ['--dataset', 'mnist', '--batch', '4', '--warmup', '1', '--checkpoint-every', '2', '--json'];
    const first = await farmer('train', cfgPath, '--out', out, '--steps', '2', ...common);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ steps: 2, of: 2 });
    const more = await farmer('train', '--out', out, '--resume', '--steps', '3', ...common);
    expect(more.code, more.stderr).toBe(0);
    const log = readFileSync(`${out}.log.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.map((l) => l.step)).toEqual([1, 2, 3]);
    expect(Object.keys(log[0]).sort()).toEqual([
      'bpd',
      'grad_norm',
      'images_per_s',
      'logdet_per_dim',
      'loss',
      'lr',
      'nll_per_dim',
      'skipped',
      'step',
    ]);
    const card = readCheckpoint(readFileSync(out)).card;
    expect(card).toMatchObject({
      dataset: 'mnist',
      steps: 3,
      train: { trainer: 'farmer train', device: 'wasm', world_size: 1 },
    });
    expect(card.sampling).toBeUndefined(); // uniform dequantization: no training σ
    const info = JSON.parse((await farmer('info', out, '--json')).stdout);
    expect(info.lineage).toEqual({ trainer: 'farmer train', device: 'wasm', world_size: 1, init: null });
    expect((await farmer('info', out)).stdout).toMatch(
      /^ {2}lineage: trainer farmer train, device wasm, world size 1$/m,
    );

    // --workers 2: the same steps with each batch's gradient shared by two threads
    const two = join(dir, 'two.safetensors');
    const par = await farmer('train', cfgPath, '--out', two, '--steps', '3', '--workers', '2', ...common);
    expect(par.code, par.stderr).toBe(0);
    expect(par.stderr).toMatch(/batch 4, 3 steps, 2 workers/);
    const parLog = readFileSync(`${two}.log.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    parLog.forEach((l, i) => expect(l.loss).toBeCloseTo(log[i].loss, 5));
    expect(readCheckpoint(readFileSync(two)).card).toMatchObject({ train: { world_size: 2 } });
    const tooMany = await farmer('train', cfgPath, '--out', two, '--steps', '1', '--workers', '5', ...common);
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.stderr.split('\n')[0]).toBe('farmer train: --workers 5 is more than the batch (4)');
    expect(readFileSync(`${two}.log.jsonl`, 'utf8').trim().split('\n')).toHaveLength(3); // refused before touching the run

    // --stop-at: a cut of a longer schedule, at the learning rates of that schedule
    const cut = join(dir, 'cut.safetensors');
    const part = await farmer(
      'train',
      cfgPath,
      '--out',
      cut,
      '--steps',
      '5',
      '--stop-at',
      '3',
      ...common.filter((a) => a !== '2' && a !== '--checkpoint-every'),
    );
    expect(part.code, part.stderr).toBe(0);
    expect(JSON.parse(part.stdout)).toMatchObject({ steps: 3, of: 5 });
    const cutLog = readFileSync(`${cut}.log.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(cutLog.map((l) => l.step)).toEqual([1, 2, 3]);
    const full = join(dir, 'full.safetensors');
    expect((await farmer('train', cfgPath, '--out', full, '--steps', '5', ...common)).code).toBe(0);
    const fullLog = readFileSync(`${full}.log.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(cutLog.map((l) => l.lr)).toEqual(fullLog.slice(0, 3).map((l) => l.lr));
    expect(cutLog.map((l) => l.loss)).toEqual(fullLog.slice(0, 3).map((l) => l.loss));

    const cont = join(dir, 'c.safetensors');
    const c = await farmer('train', cfgPath, '--out', cont, '--init', out, '--steps', '1', ...common);
    expect(c.code, c.stderr).toBe(0);
    expect(readCheckpoint(readFileSync(cont)).card).toMatchObject({ steps: 4, train: { init: { steps: 3 } } });

    // gaussian dequantization: the card records the σ of the last step trained (cosine: σ(t) at t = 2/4)
    const gaussCfg = join(dir, 'gauss.json');
    writeFileSync(
      gaussCfg,
      JSON.stringify({ ...config, dequantization: { kind: 'gaussian', sigma_min: 0.01, sigma_max: 0.2 } }),
    );
    const g = join(dir, 'g.safetensors');
    expect((await farmer('train', gaussCfg, '--out', g, '--steps', '4', '--stop-at', '3', ...common)).code).toBe(0);
    const sigma = readCheckpoint(readFileSync(g)).card.sampling as { sigma: number };
    expect(sigma.sigma).toBeCloseTo(0.01 + (0.19 * (1 + Math.cos(Math.PI * 0.5))) / 2, 12);
    writeFileSync(
      gaussCfg,
      JSON.stringify({
        ...config,
        dequantization: { kind: 'gaussian', sigma_min: 0.01, sigma_max: 0.2, schedule: 'fixed' },
      }),
    );
    expect((await farmer('train', gaussCfg, '--out', g, '--steps', '1', ...common)).code).toBe(0);
    expect(readCheckpoint(readFileSync(g)).card.sampling).toEqual({ sigma: 0.2 });

    const bad = await farmer(
      'train',
      cfgPath,
      '--out',
      join(dir, 'x.safetensors'),
      '--dataset',
      'cifar',
      '--steps',
      '1',
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.split('\n')[0]).toMatch(
      /^farmer train: invalid --dataset: "cifar" \(one of mnist, colored-mnist\)$/,
    );
  });
});
