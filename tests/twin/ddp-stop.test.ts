// The twin under `torchrun`, two CPU processes: Ctrl-C reaches the ranks at different moments, and
// they must still stop at the same step, write one checkpoint, and exit (a rank that stops alone
// leaves the other waiting in its all-reduce for ever).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readCheckpoint } from '../../src/lib/io/checkpoint';
import { tempDir } from '../helpers/files';
import { describeTwin, python, repoRoot } from './twin';
import { tinyMnistConfigJson as config } from '../helpers/tiny-mnist';

const logLines = (path: string) =>
  existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean) : [];

/** The step recorded in a twin state file's safetensors header. */
function stateStep(path: string): number {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  return Number(JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')).__metadata__.step);
}

describeTwin('the twin under torchrun', () => {
  it('stops both ranks at one step on Ctrl-C, with a checkpoint of that step', async () => {
    const dir = tempDir('farmer-twin-ddp-');
    writeFileSync(join(dir, 'c.json'), JSON.stringify(config));
    const out = join(dir, 'm.safetensors');
    // PyTorch 1.13's launcher needs --redirects/--tee under Python 3.11 (docs/twin.md); 2.x accepts them
    const proc = spawn(
      python,
      [
        '-m',
        'torch.distributed.run',
        '--standalone',
        '--nproc_per_node=2',
        '--redirects',
        '2',
        '--tee',
        '1',
        '-m',
        'farmer_torch.train',
        join(dir, 'c.json'),
        '--dataset',
        'mnist',
        '--out',
        out,
        '--steps',
        '100000',
        '--batch',
        '8',
        '--log-every',
        '5',
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, PYTHONPATH: join(repoRoot, 'python') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
    const started = Date.now();
    while (logLines(`${out}.log.jsonl`).length < 20) {
      if (Date.now() - started > 90_000 || proc.exitCode !== null) throw new Error(`no training steps:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    proc.kill('SIGINT');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
    const steps = logLines(`${out}.log.jsonl`).map((l) => JSON.parse(l).step as number);
    const last = steps.at(-1)!;
    expect(steps).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(readCheckpoint(readFileSync(out)).card).toMatchObject({ steps: last, train: { world_size: 2 } });
    expect(stateStep(`${out}.state.safetensors`)).toBe(last);
    const summary = output.split('\n').find((l) => l.includes('"out"'));
    expect(JSON.parse(summary!.slice(summary!.indexOf('{')))).toMatchObject({ steps: last });
  });
});
