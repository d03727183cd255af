// `farmer distill` on a tiny teacher: a few Algorithm 2 steps give a student file that loads with
// loadCheckpoint (student af.*, the teacher's ar.* prior, config.student) and samples in one pass;
// a run stopped and resumed ends with the same weights as the uninterrupted one.
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import { loadCheckpoint } from '../../src/lib/io/checkpoint';
import { makeModel, type FarmerModel } from '../../src/lib/farmer/model';
import { sample } from '../../src/lib/farmer/sampling';
import { runFarmer } from '../helpers/cli';

const farmer = (...args: string[]) => runFarmer(args);

const tiny28 = { size: 28, patch: 7, numClasses: 10, informative: 4, classConditionalAf: true };
let dir: string, teacherPath: string, otherPath: string, teacher: FarmerModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tempDir('farmer-distill-');
  ({ path: teacherPath, model: teacher } = writeTinyCheckpoint(dir, 'teacher.safetensors', tiny28, 1));
  ({ path: otherPath } = writeTinyCheckpoint(dir, 'other.safetensors', tiny28, 2));
});

const student = (name: string) => loadCheckpoint(readFileSync(join(dir, name)), name);
const common = ['--dataset', 'mnist', '--batch', '8', '--lr', '1e-3', '--warmup', '1', '--seed', '4', '--json'];

describe('farmer distill', () => {
  it('writes a student that loads and samples, and resumes exactly', async () => {
    const [full, first] = await Promise.all([
      farmer('distill', teacherPath, '--out', join(dir, 'full.safetensors'), '--steps', '3', ...common),
      farmer('distill', teacherPath, '--out', join(dir, 'split.safetensors'), '--steps', '1', ...common),
    ]);
    expect(full.code, full.stderr).toBe(0);
    expect(first.code, first.stderr).toBe(0);
    const resumed = await farmer(
      'distill',
      teacherPath,
      '--out',
      join(dir, 'split.safetensors'),
      '--resume',
      '--steps',
      '3',
      '--json',
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ steps: 3, of: 3 });

    const a = student('full.safetensors');
    expect(a.config.student).toBe(true);
    expect({ ...a.config, student: undefined }).toEqual({ ...teacher.config, student: undefined });
    const sha = createHash('sha256').update(readFileSync(teacherPath)).digest('hex');
    expect(a.card).toMatchObject({
      dataset: 'mnist',
      steps: 3,
      seed: 4,
      teacher: { sha256: sha, name: 'teacher.safetensors' },
    });
    expect((a.card.distill as { curve_loss: unknown[] }).curve_loss).toHaveLength(3);
    const log = readFileSync(join(dir, 'full.safetensors.log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.map((l) => l.step)).toEqual([1, 2, 3]);
    for (const l of log) expect(Number.isFinite(l.loss) && l.loss > 0).toBe(true);

    // the prior is the teacher's, bit for bit; the AF has moved away from it
    let afChanged = 0;
    for (const [name, t] of a.params) {
      const mine = t.dataSync(),
        theirs = teacher.params.get(name)!.dataSync();
      const same = mine.every((v, i) => v === theirs[i]);
      if (name.startsWith('ar.')) expect(same, name).toBe(true);
      else if (!same) afChanged++;
    }
    expect(afChanged).toBeGreaterThan(10);

    // stopped after 1 step and resumed to 3 = 3 steps in one go
    const b = student('split.safetensors');
    for (const [name, t] of a.params)
      expect(Array.from(b.params.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));

    const model = makeModel(a.config, a.params);
    const r = await sample(model, { n: 4, seed: 1, labels: Int32Array.from([0, 1, 2, 3]) });
    expect(r.images.shape).toEqual([4, 28, 28, 1]);
    expect(r.finite).toHaveLength(4);
    r.images.dispose();
    r.z.dispose();
  });

  it('bad arguments exit non-zero with one clear line', async () => {
    const cases: [string[], RegExp, number][] = [
      [['distill', teacherPath, '--out', join(dir, 'x.safetensors'), '--dataset', 'mnist'], /missing --steps/, 2],
      [
        ['distill', teacherPath, '--out', join(dir, 'x.safetensors'), '--steps', '2'],
        /unknown dataset "random".*pass --dataset/,
        2,
      ],
      [
        [
          'distill',
          join(dir, 'full.safetensors'),
          '--out',
          join(dir, 'x.safetensors'),
          '--steps',
          '2',
          '--dataset',
          'mnist',
        ],
        /already a distilled student/,
        1,
      ],
      [
        ['distill', otherPath, '--out', join(dir, 'full.safetensors'), '--resume', '--steps', '4'],
        /distilled from another teacher/,
        1,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => farmer(...args)));
    for (const [i, [args, message, code]] of cases.entries()) {
      const r = results[i];
      expect(r.code, args.join(' ')).toBe(code);
      const line = r.stderr.split('\n').find((l) => l.startsWith('farmer distill:'));
      expect(line, r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
