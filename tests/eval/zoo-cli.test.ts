// `farmer zoo add|update` in process, on a temporary checkout root: entries follow the zoo schema,
// carry the file's size and SHA-256, and take their metrics from the card and `farmer eval --json`.
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import { Flags, parseArgs } from '../../src/cli/args';
import { run, usage } from '../../src/cli/commands/zoo';
import { parseZooIndex } from '../../src/lib/io/zoo';
import { readCheckpoint } from '../../src/lib/io/checkpoint';

async function zoo(...argv: string[]): Promise<string[]> {
  const lines: string[] = [];
  const flags = new Flags(parseArgs(argv, new Set(['json', 'f16'])));
  const json = flags.bool('json'); // as src/cli/main.ts reads it
  await run({ flags, json, out: (l) => lines.push(l), log: () => {} });
  return lines;
}

let root: string, model: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = tempDir('farmer-zoo-');
  mkdirSync(join(root, 'static', 'models'), { recursive: true });
  ({ path: model } = writeTinyCheckpoint(root, 'trained.safetensors', {}));
});

describe('farmer zoo', () => {
  it('adds an entry with bytes, sha256 and a summary, copying the file into static/models/', async () => {
    const [line] = await zoo(
      'add',
      model,
      '--name',
      'tiny',
      '--title',
      'Tiny',
      '--description',
      'A tiny random model.',
      '--root',
      root,
      '--json',
    );
    const entry = JSON.parse(line);
    const bytes = readFileSync(model);
    expect(entry).toMatchObject({
      name: 'tiny',
      file: 'tiny.safetensors',
      dataset: 'random',
      bytes: bytes.byteLength,
      metrics: {},
    });
    expect(entry.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(entry.summary).toMatch(/^AF 2×1 W16 \+ FARMER prior K3\/2/);
    expect(existsSync(join(root, 'static', 'models', 'tiny.safetensors'))).toBe(true);
    const index = parseZooIndex(JSON.parse(readFileSync(join(root, 'static', 'models', 'index.json'), 'utf8')));
    expect(index.models).toEqual([entry]);
  });

  it('update keeps the title and takes the metrics of `farmer eval --json`', async () => {
    const evalJson = join(root, 'eval.json');
    writeFileSync(
      evalJson,
      JSON.stringify({
        split: 'test',
        n: 1000,
        feature_net: { name: 'mnist-cnn' },
        bpd: { value: 1.25, n: 10000 },
        fid: { value: 7.5 },
        is: { value: 9.1, std: 0 },
        precision: null,
        recall: { value: 0.5 },
      }),
    );
    const [line] = await zoo(
      'update',
      join(root, 'static', 'models', 'tiny.safetensors'),
      '--name',
      'tiny',
      '--metrics',
      evalJson,
      '--root',
      root,
      '--json',
    );
    const entry = JSON.parse(line);
    expect(entry.title).toBe('Tiny');
    expect(entry.file).toBe('tiny.safetensors');
    expect(entry.metrics).toEqual({
      bpd_test: 1.25,
      bpd_n: 10000,
      'fid_mnist-cnn': 7.5,
      'is_mnist-cnn': 9.1,
      'recall_mnist-cnn': 0.5,
      eval_n: 1000,
    });
  });

  it('--f16 ships float16 weights, and the card keeps the whole evaluation', async () => {
    const evalJson = join(root, 'eval.json');
    const [line] = await zoo(
      'update',
      model,
      '--name',
      'tiny',
      '--metrics',
      evalJson,
      '--f16',
      '--root',
      root,
      '--json',
    );
    const entry = JSON.parse(line);
    const shipped = readFileSync(join(root, 'static', 'models', 'tiny.safetensors'));
    expect(entry.bytes).toBe(shipped.byteLength);
    expect(entry.sha256).toBe(createHash('sha256').update(shipped).digest('hex'));
    const original = readCheckpoint(readFileSync(model));
    const f16 = readCheckpoint(shipped);
    expect(f16.summary.dtypes).toEqual({ F16: original.summary.tensors });
    expect((f16.card.metrics.eval as { fid: { value: number } }).fid.value).toBe(7.5);
    for (const [name, w] of original.weights) {
      const v = f16.weights.get(name)!.values;
      w.values.forEach((x, i) => expect(Math.abs(v[i] - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 6e-8)); // float16 rounding
    }
  });

  it('refuses a second add, an update of an unknown name, and a missing title', async () => {
    await expect(
      zoo('add', model, '--name', 'tiny', '--title', 'T', '--description', 'D', '--root', root),
    ).rejects.toThrow(/already has "tiny"/);
    await expect(zoo('update', model, '--name', 'nope', '--root', root)).rejects.toThrow(/has no "nope"/);
    await expect(zoo('add', model, '--name', 'other', '--root', root)).rejects.toThrow(/--title and --description/);
    await expect(
      zoo(
        'add',
        join(root, 'missing.safetensors'),
        '--name',
        'x',
        '--title',
        'T',
        '--description',
        'D',
        '--root',
        root,
      ),
    ).rejects.toThrow(/not found/);
    expect(usage).toMatch(/farmer zoo add\|update/);
  });

  it("--sampling sets keys of the card's recommended settings, keeps the others and the file's float16, and refuses what the model cannot do", async () => {
    const file = join(root, 'static', 'models', 'tiny.safetensors');
    await zoo(
      'update',
      file,
      '--name',
      'tiny',
      '--f16',
      '--sampling',
      'T=0.9,cfg=2.5,cfg_method=naive',
      '--root',
      root,
    );
    expect(readCheckpoint(readFileSync(file)).card.sampling).toEqual({ T: 0.9, cfg: 2.5, cfg_method: 'naive' });
    await zoo('update', file, '--name', 'tiny', '--sampling', 's=0.8', '--root', root);
    const { card, summary } = readCheckpoint(readFileSync(file));
    expect(card.sampling).toEqual({ T: 0.9, cfg: 2.5, cfg_method: 'naive', s: 0.8 });
    expect(Object.keys(summary.dtypes)).toEqual(['F16']);
    await expect(zoo('update', file, '--name', 'tiny', '--sampling', 'denoise=true', '--root', root)).rejects.toThrow(
      'invalid --sampling.denoise: true (denoising needs a gaussian-dequantized model; this one is uniform)',
    );
    await expect(zoo('update', file, '--name', 'tiny', '--sampling', 'tau=1', '--root', root)).rejects.toThrow(
      /unknown key "tau"/,
    );
  });
});
