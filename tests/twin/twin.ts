// The PyTorch twin (python/farmer_torch) from the tests: it runs under /usr/bin/python3 (Debian's
// python3-torch and python3-numpy; FARMER_PYTHON names another interpreter). A machine without
// torch fails these tests with a message saying what to install; FARMER_SKIP_TWIN=1 skips them,
// and the skipped suites carry the reason in their names.
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe } from 'vitest';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export const python = process.env.FARMER_PYTHON ?? '/usr/bin/python3';
const skip = process.env.FARMER_SKIP_TWIN ? `skipped: FARMER_SKIP_TWIN=${process.env.FARMER_SKIP_TWIN}` : null;
const env = { ...process.env, PYTHONPATH: join(repoRoot, 'python'), PYTHONDONTWRITEBYTECODE: '1' };

let checked: string | null = null;

/** Throws, naming what to install, unless `python` imports torch and numpy. */
export function requireTorch(): void {
  if (checked) return;
  const r = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', env });
  if (r.status !== 0)
    throw new Error(
      `the PyTorch twin's tests need ${python} with torch and numpy (Debian: apt-get install python3-torch python3-numpy), ` +
        `or FARMER_SKIP_TWIN=1 to skip them: ${(r.error?.message ?? r.stderr).trim().split('\n').pop()}`,
    );
  checked = r.stdout.trim();
}

/** describe() whose tests fail loudly without torch, or skip (the reason in the name) under FARMER_SKIP_TWIN. */
export function describeTwin(name: string, body: () => void): void {
  if (skip) {
    console.warn(`${name}: ${skip}`);
    describe.skip(`${name} (${skip})`, body);
    return;
  }
  describe(name, () => {
    beforeAll(() => requireTorch());
    body();
  });
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `python3 <args>` in the repository root with python/ on the path. */
export function runPython(args: string[], { timeoutMs = 300_000 } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(python, args, { cwd: repoRoot, env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr + (error && typeof error.code !== 'number' ? String(error) : '') });
    });
  });
}

/** `python3 -m farmer_torch.<command> <args>` as a user runs it. */
export function twin(command: string, args: string[], o?: { timeoutMs?: number }): Promise<Run> {
  return runPython(['-m', `farmer_torch.${command}`, ...args], o);
}

/** Several farmer_torch commands in one interpreter (tests/twin/run_many.py), results in order. */
export async function twinMany(jobs: string[][]): Promise<Run[]> {
  const r = await runPython([join(repoRoot, 'tests/twin/run_many.py'), JSON.stringify(jobs)]);
  if (r.code !== 0) throw new Error(`run_many.py failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Run[];
}

/** Runs `fn` over `items` with at most `limit` at once (CLI processes on two cores). */
export async function pooled<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** max over entries of |a − b| − (atol + rtol·|b|): ≤ 0 when a equals b within the tolerances. */
export function excess(a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-5, atol = 1e-4): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
  }
  return worst;
}
