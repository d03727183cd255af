import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/lib/io/npy';

const dir = mkdtempSync(join(tmpdir(), 'metrics-cli-'));
const file = (name: string, data: Float32Array | Int32Array, shape: number[]) => {
  const path = join(dir, name);
  writeFileSync(path, writeNpy(data, shape));
  return path;
};
const farmer = (...args: string[]) => spawnSync('node', ['bin/farmer.mjs', 'metrics', ...args], { encoding: 'utf8' });

// Rows ±1 in each column: mean μ, covariance σ²·n/(n−1) exactly (columns of a 4×4 Hadamard matrix).
const signs = [
  [1, 1, 1],
  [-1, 1, -1],
  [1, -1, -1],
  [-1, -1, 1],
];
const set = (mu: number[], s: number[]) =>
  Float32Array.from(signs.flatMap((row) => row.map((h, j) => mu[j] + s[j] * h)));
const a = file('a.npy', set([0, 1, 2], [1, 1, 2]), [4, 3]);
const b = file('b.npy', set([1, 1, 0], [2, 1, 0.5]), [4, 3]);
// ‖Δμ‖² + (4/3)·Σ (s_a − s_b)² = 1 + 0 + 4 + (4/3)(1 + 0 + 2.25)
const expected = 5 + (4 / 3) * 3.25;

describe('farmer metrics fid', () => {
  it('prints the distance of two .npy feature arrays', () => {
    const r = farmer('fid', a, b);
    expect(r.status, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBeCloseTo(expected, 10);
  });

  it('prints an object with --json', () => {
    const r = farmer('fid', a, b, '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ n_a: 4, n_b: 4, dims: 3 });
    expect(out.fid).toBeCloseTo(expected, 10);
  });

  const cases: [string, string[], RegExp, number][] = [
    [
      'wrong rank',
      [a, file('r1.npy', new Float32Array(5), [5])],
      /expected a rank-2 array \[n, f\], got shape \[5\]/,
      1,
    ],
    [
      'mismatched feature dims',
      [a, file('d4.npy', new Float32Array(8), [2, 4])],
      /feature dimensions differ: .*a.npy has 3, .*d4.npy has 4/,
      1,
    ],
    ['a single row', [a, file('n1.npy', new Float32Array(3), [1, 3])], /needs at least 2 feature vectors, got 1/, 1],
    ['NaN', [a, file('nan.npy', Float32Array.from([0, 1, 2, 3, NaN, 5]), [2, 3])], /NaN at row 1, column 1/, 1],
    ['integers', [a, file('int.npy', new Int32Array(6), [2, 3])], /dtype <i4 is not a float array/, 1],
    ['a missing file', [a, join(dir, 'nope.npy')], /not found: .*nope.npy/, 1],
    ['one file only', [a], /takes two .npy files, got 1/, 2],
  ];
  it.each(cases)('refuses %s with one clear line', (_, files, message, status) => {
    const r = farmer('fid', ...files);
    expect(r.status).toBe(status);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(/^farmer metrics: /);
    expect(r.stderr.split('\n')[0]).toMatch(message);
  });

  it('refuses an unknown metric and unknown options', () => {
    expect(farmer('kid', a, b).stderr).toMatch(/unknown metric "kid" \(available: fid\)/);
    const r = farmer('fid', a, b, '--frobnicate=1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option --frobnicate/);
  });
});
