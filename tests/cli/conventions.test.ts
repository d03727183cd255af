// The command line behaves as command lines do: --version, per-command -h/--help on stdout with
// exit 0, `--` ending the options, usage errors on stderr with exit 2, other errors as one line
// with exit 1, --json as one line; and the `farmer` that `npm ci` installs runs from anywhere.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runFarmer, type CliResult } from '../helpers/cli';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';

const farmer = (...args: string[]) => runFarmer(args);
const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
const commands = [
  'info',
  'forward',
  'sample',
  'train',
  'eval',
  'distill',
  'analyze',
  'convert',
  'metrics',
  'reproduce',
  'zoo',
  'bench',
];

let dir: string, ckpt: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tempDir();
  ({ path: ckpt } = writeTinyCheckpoint(dir, 'tiny.safetensors'));
});

async function inBatches<T>(items: T[], size: number, f: (item: T) => Promise<CliResult>): Promise<CliResult[]> {
  const out: CliResult[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(f))));
  return out;
}

describe('farmer, as command lines behave', () => {
  it('--version prints the package version', async () => {
    const r = await farmer('--version');
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it(
    'every command prints its own usage for -h and --help, on stdout, exit 0, whatever else is given',
    { timeout: 600_000 },
    async () => {
      const asks = commands.map((c, i) => (i % 2 ? [c, '-h'] : [c, '--n', '--help']));
      const results = await inBatches(asks, 4, (args) => runFarmer(args, { timeoutMs: 180_000 }));
      results.forEach((r, i) => {
        const [command] = asks[i];
        expect(r.code, asks[i].join(' ')).toBe(0);
        expect(r.stderr, asks[i].join(' ')).toBe('');
        expect(r.stdout.startsWith(`usage: farmer ${command}`), asks[i].join(' ')).toBe(true);
      });
      const general = await farmer('--help');
      expect(general.code).toBe(0);
      for (const c of commands) expect(general.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    },
  );

  it('`--` ends the options: what follows is an argument even when it starts with dashes', async () => {
    const r = await farmer('info', '--', '--not-an-option.safetensors');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('farmer info: model file not found: --not-an-option.safetensors\n');
  });

  it("a usage error prints the message and the command's usage on stderr and exits 2; other errors one line, exit 1", async () => {
    const [usage, bare, unknown, shortOption, failure] = await Promise.all([
      farmer('sample', ckpt, '--n', '0', '--out', join(dir, 'a.npy')),
      farmer(),
      farmer('sing'),
      farmer('info', ckpt, '-x'),
      farmer('info', join(dir, 'missing.safetensors')),
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    const lines = usage.stderr.trim().split('\n');
    expect(lines[0]).toBe('farmer sample: invalid --n: "0" (an integer ≥ 1)');
    expect(lines[1]).toMatch(/^usage: farmer sample <model> --n N/);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toMatch(/^usage: farmer <command>/m);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toMatch(/^farmer sing: unknown command "sing" \(commands: info, forward/);
    expect(shortOption.code).toBe(2);
    expect(shortOption.stderr.split('\n')[0]).toBe('farmer info: unknown option -x');
    expect(failure.code).toBe(1);
    expect(failure.stderr).toBe(`farmer info: model file not found: ${join(dir, 'missing.safetensors')}\n`);
  });

  it('bench --json prints one line of JSON', { timeout: 600_000 }, async () => {
    const r = await runFarmer(['bench', '--engine-only', '--reps', '1', '--batch', '1', '--json'], {
      timeoutMs: 300_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ backend: 'wasm', batch: 1, reps: 1, zoo: null });
  });

  it('the installed node_modules/.bin/farmer runs from any folder', async () => {
    const bin = resolve('node_modules/.bin/farmer');
    const exec = promisify(execFile);
    const v = await exec(bin, ['--version'], { cwd: dir });
    expect(v.stdout).toBe(`${version}\n`);
    const info = await exec(bin, ['info', 'tiny.safetensors', '--json'], { cwd: dir, timeout: 60_000 });
    expect(JSON.parse(info.stdout)).toMatchObject({ source: 'tiny.safetensors', config: { af: { blocks: 2 } } });
  });
});
