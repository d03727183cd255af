// Forward parity: on random checkpoints of every configuration kind, written by the engine, the
// twin's `farmer_torch.forward --json` equals `farmer forward --json` (logdet total and per block,
// log prior, log p(x), nll per dim, bpd; latents through --latents) within 1e-5 relative, 1e-4
// absolute, float32 on both sides. A distilled student is refused by both.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readNpy, writeNpy } from '../../src/lib/io/npy';
import { saveCheckpoint } from '../../src/lib/io/checkpoint';
import { Rng } from '../../src/lib/util/random';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import { tinyModel, type TinyOptions } from '../helpers/tiny';
import { runFarmer } from '../helpers/cli';
import { describeTwin, excess, pooled, twinMany, type Run } from './twin';

interface Case {
  name: string;
  o: TinyOptions;
  /** --images (uint8, dequantized by each side with seed 3) instead of --inputs */
  images?: boolean;
}

// Together they cover: both priors, final_permute on and off with odd and even block counts,
// K = 1, a class-conditional AF, soft clip, 3 channels, an unconditional model.
const cases: Case[] = [
  { name: 'gaussian prior, soft clip 0.5', o: { prior: 'gaussian', blocks: 2, softClip: 0.5 } },
  {
    name: 'farmer, final permute, 3 blocks, class-conditional AF, 3 channels',
    o: { blocks: 3, classConditionalAf: true, channels: 3, informative: 5 },
  },
  { name: 'farmer, final permute, 2 blocks (--images)', o: { blocks: 2 }, images: true },
  { name: 'farmer, no final permute, 3 blocks', o: { blocks: 3, finalPermute: false } },
  { name: 'farmer, K = 1, unconditional', o: { blocks: 2, mixtures: [1, 1], numClasses: 0 } },
];

type Terms = {
  logdet_total: number;
  logdet_per_block: number[];
  log_prior: number;
  log_px: number;
  nll_per_dim: number;
  bpd: number;
};

const B = 6;
let latents: [string, string][];
let engine: Run[], twin: Run[];

/** Writes the checkpoints and inputs; returns the forward arguments of each case, the student's last. */
function prepare(dir: string): string[][] {
  const jobs = cases.map((c, i) => {
    const { path, model } = writeTinyCheckpoint(dir, `m${i}.safetensors`, c.o, 11 + i);
    const { height: H, width: W, channels: C } = model.config.image;
    const input = join(dir, `x${i}.npy`);
    if (c.images)
      writeFileSync(
        input,
        writeNpy(
          Uint8Array.from(new Rng(i).normals(B * H * W * C), (v) => Math.min(255, Math.abs(v) * 90)),
          [B, H, W, C],
        ),
      );
    else writeFileSync(input, writeNpy(new Rng(i).normals(B * H * W * C, 0.5), [B, H, W, C]));
    const args = [path, c.images ? '--images' : '--inputs', input, '--seed', '3', '--json'];
    if (model.config.num_classes > 0) {
      writeFileSync(join(dir, `y${i}.npy`), writeNpy(new Int32Array([0, 1, 2, -1, 1, 0]), [B]));
      args.push('--labels', join(dir, `y${i}.npy`));
    }
    tf.dispose([...model.params.values()]);
    return args;
  });
  const student = tinyModel({ blocks: 2 }, 5);
  const path = join(dir, 'student.safetensors');
  writeFileSync(
    path,
    saveCheckpoint({ ...student.config, student: true }, student.params, {
      dataset: 'random',
      steps: 0,
      time_s: 0,
      seed: 5,
      metrics: {},
    }),
  );
  const H = student.config.image.height;
  writeFileSync(join(dir, 'xs.npy'), writeNpy(new Float32Array(2 * H * H), [2, H, H, 1]));
  tf.dispose([...student.params.values()]);
  return [...jobs, [path, '--inputs', join(dir, 'xs.npy'), '--json']];
}

describeTwin('twin forward equals farmer forward', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    const dir = tempDir('farmer-twin-forward-');
    const jobs = prepare(dir);
    latents = cases.map((_, i) => [join(dir, `ze${i}.npy`), join(dir, `zt${i}.npy`)]);
    const withLatents = (args: string[], i: number, side: 0 | 1) =>
      i < cases.length ? [...args, '--latents', latents[i][side]] : args;
    [engine, twin] = await Promise.all([
      pooled(
        jobs.map((a, i) => withLatents(a, i, 0)),
        2,
        (args) => runFarmer(['forward', ...args]),
      ),
      twinMany(jobs.map((a, i) => ['forward', ...withLatents(a, i, 1)])),
    ]);
  });

  it.each(cases.map((c, i) => [c.name, i] as const))(
    '%s: terms and latents within 1e-5 relative, 1e-4 absolute',
    (name, i) => {
      expect(engine[i].code, `farmer forward: ${engine[i].stderr}`).toBe(0);
      expect(twin[i].code, `twin forward: ${twin[i].stderr}`).toBe(0);
      const e = (JSON.parse(engine[i].stdout) as { images: Terms[] }).images;
      const t = (JSON.parse(twin[i].stdout) as { images: Terms[] }).images;
      expect(t.length).toBe(B);
      for (const key of ['logdet_total', 'log_prior', 'log_px', 'nll_per_dim', 'bpd'] as const)
        expect(
          excess(
            t.map((r) => r[key]),
            e.map((r) => r[key]),
          ),
          key,
        ).toBeLessThanOrEqual(0);
      expect(
        excess(
          t.flatMap((r) => r.logdet_per_block),
          e.flatMap((r) => r.logdet_per_block),
        ),
        'logdet_per_block',
      ).toBeLessThanOrEqual(0);
      // the flow really transforms (an identity would agree trivially): logdet well above float noise
      expect(Math.max(...e.map((r) => Math.abs(r.logdet_total)))).toBeGreaterThan(0.05);
      const [ze, zt] = latents[i].map((p) => readNpy(readFileSync(p)));
      expect(zt.shape).toEqual(ze.shape);
      expect(excess(zt.data as Float32Array, ze.data as Float32Array), 'latents').toBeLessThanOrEqual(0);
    },
  );

  it('a distilled student is refused by both, with one line', () => {
    for (const [who, r] of [
      ['engine', engine[cases.length]],
      ['twin', twin[cases.length]],
    ] as const) {
      expect(r.code, who).toBe(1);
      expect(r.stdout, who).toBe('');
      expect(r.stderr.trim().split('\n'), who).toHaveLength(1);
      expect(r.stderr, who).toMatch(/a distilled student only maps latents to images; it has no likelihood/);
    }
  });
});
