// Inverse parity: a latent inverted by the twin (`farmer_torch.decode`: the KV-cached AF inverse,
// or a student's one pass) and by the engine (decodeLatents, in this process) gives the same
// image within 1e-4, and that image goes back through forward (both sides) to the same latent.
// And the one-step student: `farmer_torch.distill` writes a file the engine opens (its card names
// the teacher's SHA-256, its prior is the teacher's), and Algorithm 2's loss of the twin equals the
// engine's distillationLoss on the same images, labels, s and ε.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readNpy, writeNpy } from '../../src/lib/io/npy';
import { loadCheckpoint } from '../../src/lib/io/checkpoint';
import {
  analyzeForward,
  decodeLatents,
  disposeAnalysis,
  makeModel,
  type FarmerModel,
} from '../../src/lib/farmer/model';
import { distillationLoss } from '../../src/lib/farmer/distill';
import { Rng } from '../../src/lib/util/random';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import type { TinyOptions } from '../helpers/tiny';
import { runFarmer } from '../helpers/cli';
import { describeTwin, excess, twinMany, type Run } from './twin';

const B = 4;
const cases: { name: string; o: TinyOptions }[] = [
  { name: 'farmer prior, 3 blocks, class-conditional AF', o: { blocks: 3, classConditionalAf: true } },
  { name: 'gaussian prior, soft clip 0.5', o: { prior: 'gaussian', blocks: 2, softClip: 0.5 } },
  { name: '3 channels, 2 blocks', o: { blocks: 2, channels: 3, informative: 5 } },
];
/** A 28×28 class-conditional teacher small enough to distill in seconds (16 tokens of 49 dims). */
const teacherOptions: TinyOptions = {
  size: 28,
  patch: 7,
  blocks: 2,
  classConditionalAf: true,
  numClasses: 10,
  informative: 3,
};

let dir: string;
let twin: Run[];
const paths: { model: string; z: string; y: string; xt: string; zt: string }[] = [];
let teacherPath: string, studentPath: string;
const loss = { s: 0.17, x: '', y: '', eps: '' };

function open(path: string): FarmerModel {
  const { config, params } = loadCheckpoint(readFileSync(path));
  return makeModel(config, params);
}

const dispose = (m: FarmerModel) => tf.dispose([...m.params.values()]);
const npy = (path: string) => readNpy(readFileSync(path)).data as Float32Array;

describeTwin('twin inverse, student and distillation equal the engine', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = tempDir('farmer-twin-inverse-');
    const labels = new Int32Array([0, 2, -1, 1]);
    cases.forEach((c, i) => {
      const { path, model } = writeTinyCheckpoint(dir, `m${i}.safetensors`, c.o, 21 + i);
      const { tokens: N, tokenDim: d } = model.dims;
      const p = {
        model: path,
        z: join(dir, `z${i}.npy`),
        y: join(dir, `y${i}.npy`),
        xt: join(dir, `xt${i}.npy`),
        zt: join(dir, `zt${i}.npy`),
      };
      writeFileSync(p.z, writeNpy(new Rng(30 + i).normals(B * N * d, 0.8), [B, N, d]));
      writeFileSync(p.y, writeNpy(labels, [B]));
      paths.push(p);
      dispose(model);
    });
    const t = writeTinyCheckpoint(dir, 'teacher.safetensors', teacherOptions, 41, { dataset: 'mnist', steps: 7 });
    teacherPath = t.path;
    studentPath = join(dir, 'student.safetensors');
    const { tokens: N, tokenDim: d } = t.model.dims;
    const zs = { model: studentPath, z: join(dir, 'zs.npy'), y: join(dir, 'ys.npy'), xt: join(dir, 'xts.npy'), zt: '' };
    writeFileSync(zs.z, writeNpy(new Rng(50).normals(B * N * d, 0.8), [B, N, d]));
    writeFileSync(zs.y, writeNpy(new Int32Array([3, 9, -1, 0]), [B]));
    paths.push(zs);
    Object.assign(loss, { x: join(dir, 'lx.npy'), y: zs.y, eps: join(dir, 'leps.npy') });
    writeFileSync(loss.x, writeNpy(new Rng(51).normals(B * 28 * 28, 0.6), [B, 28, 28, 1]));
    writeFileSync(loss.eps, writeNpy(new Rng(52).normals(B * N * d), [B, N, d]));
    dispose(t.model);
    twin = await twinMany([
      ['distill', teacherPath, '--out', studentPath, '--steps', '3', '--batch', '4', '--seed', '2', '--json'],
      ...paths.flatMap((p, i) => {
        const decode = ['decode', p.model, '--latents', p.z, '--labels', p.y, '--out', p.xt];
        return i < cases.length
          ? [decode, ['forward', p.model, '--inputs', p.xt, '--labels', p.y, '--latents', p.zt]]
          : [decode];
      }),
      ['tests/twin/distill_loss.py', teacherPath, studentPath, loss.x, loss.y, loss.eps, String(loss.s)],
    ]);
    for (const r of twin) expect(r.code, r.stderr).toBe(0);
  });

  it.each(cases.map((c, i) => [c.name, i] as const))(
    '%s: same image within 1e-4, and back to the same latent',
    (_name, i) => {
      const p = paths[i];
      const model = open(p.model);
      const { height: H, width: W, channels: C } = model.config.image;
      const labels = readNpy(readFileSync(p.y)).data as Int32Array;
      const z = npy(p.z);
      const zt = tf.tensor3d(z, [B, model.dims.tokens, model.dims.tokenDim]);
      const xe = decodeLatents(model, zt, { labels });
      const xTwin = npy(p.xt);
      expect(excess(xTwin, xe.dataSync() as Float32Array, 1e-5, 1e-4), 'image').toBeLessThanOrEqual(0);
      expect(Math.max(...xTwin.map((v, k) => Math.abs(v - z[k % z.length])))).toBeGreaterThan(0.1); // not an identity
      const a = analyzeForward(model, tf.tensor4d(xTwin, [B, H, W, C]), labels);
      expect(
        excess(a.z.dataSync() as Float32Array, z, 1e-5, 1e-4),
        'engine forward of the twin image',
      ).toBeLessThanOrEqual(0);
      expect(excess(npy(p.zt), z, 1e-5, 1e-4), 'twin forward of its image').toBeLessThanOrEqual(0);
      disposeAnalysis(a);
      tf.dispose([xe, zt]);
      dispose(model);
    },
  );

  it("the twin's student opens in the engine: teacher's SHA-256 on its card, the teacher's prior, trained af.*", async () => {
    const summary = JSON.parse(twin[0].stdout) as { steps: number; teacher_sha256: string };
    const sha = createHash('sha256').update(readFileSync(teacherPath)).digest('hex');
    expect(summary).toMatchObject({ steps: 3, teacher_sha256: sha });
    const info = await runFarmer(['info', studentPath, '--json']);
    expect(info.code, info.stderr).toBe(0);
    const { config, card } = JSON.parse(info.stdout) as { config: { student?: boolean }; card: Record<string, any> };
    expect(config.student).toBe(true);
    expect(card.teacher).toMatchObject({ sha256: sha, name: 'teacher.safetensors', dataset: 'mnist', steps: 7 });
    expect(card.distill.options).toMatchObject({ steps: 3, batch: 4, seed: 2, lr: 3e-4, warmup: 50, clip: 1, ema: 0 });
    expect(card.distill.trainer).toBe('farmer_torch');
    const teacher = open(teacherPath),
      student = open(studentPath);
    let moved = 0;
    for (const [name, t] of teacher.params) {
      const diff = Math.max(...(t.sub(student.params.get(name)!).abs().dataSync() as Float32Array));
      if (name.startsWith('ar.')) expect(diff, name).toBe(0);
      else moved = Math.max(moved, diff);
    }
    expect(moved).toBeGreaterThan(1e-5);
    dispose(teacher);
    dispose(student);
  });

  it("a student's one-pass decode equals the engine's within 1e-4", () => {
    const p = paths[cases.length];
    const model = open(p.model);
    const labels = readNpy(readFileSync(p.y)).data as Int32Array;
    const z = tf.tensor3d(npy(p.z), [B, model.dims.tokens, model.dims.tokenDim]);
    const xe = decodeLatents(model, z, { labels });
    expect(excess(npy(p.xt), xe.dataSync() as Float32Array, 1e-5, 1e-4)).toBeLessThanOrEqual(0);
    tf.dispose([xe, z]);
    dispose(model);
  });

  it("Algorithm 2's loss of the twin equals the engine's distillationLoss on the same s and ε", () => {
    const teacher = open(teacherPath),
      student = open(studentPath);
    const eps = npy(loss.eps);
    const rng = {
      uniform: () => loss.s / 0.3,
      normals: (n: number) => (n === eps.length ? eps : new Float32Array(0)),
    } as unknown as Rng;
    const x = tf.tensor4d(npy(loss.x), [B, 28, 28, 1]);
    const labels = readNpy(readFileSync(loss.y)).data as Int32Array;
    const studentAf = new Map([...student.params].filter(([n]) => n.startsWith('af.')));
    const engineLoss = distillationLoss(teacher, studentAf, x, labels, rng);
    const value = engineLoss.dataSync()[0];
    const twinLoss = (JSON.parse(twin[twin.length - 1].stdout) as { loss: number }).loss;
    expect(value).toBeGreaterThan(1e-3);
    expect(Math.abs(twinLoss - value)).toBeLessThanOrEqual(1e-5 * value + 1e-7);
    tf.dispose([x, engineLoss]);
    dispose(teacher);
    dispose(student);
  });
});
