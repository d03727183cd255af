// The distillation experiment (Algorithm 2's student against its teacher) on a tiny random 8×8
// teacher and a student made from it, a tiny random feature network and a synthetic test set;
// every number is recomputed through the engine and the metrics module.
import * as tf from '@tensorflow/tfjs';
import { JSDOM } from 'jsdom';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { experiment, type DistillParams, type DistillResult } from '../../src/lib/experiments/distill';
import { describeResult } from '../../src/lib/experiments/distill/reading';
import { meanAgreement, speedups } from '../../src/lib/experiments/distill/result';
import { imageAgreement } from '../../src/lib/experiments/distill/run';
import { cyclingLabels } from '../../src/lib/farmer/labels';
import { checkTeacherHash, findTeacher, teacherOf } from '../../src/lib/io/teacher';
import { modelToPixels } from '../../src/lib/data/dequantize';
import type { LabelledSet } from '../../src/lib/data/binfile';
import { createClassifier, FEATURE_DIM } from '../../src/lib/metrics/classifier';
import { computeFeatures, type FeatureNet } from '../../src/lib/metrics/features';
import { featureStats, frechetDistance } from '../../src/lib/metrics/fid';
import { ssim } from '../../src/lib/metrics/structure';
import { initStudentParams, studentConfig } from '../../src/lib/farmer/distill';
import { decodeLatents, makeModel, type FarmerModel } from '../../src/lib/farmer/model';
import { sampleLatents } from '../../src/lib/farmer/sampling';
import { Rng } from '../../src/lib/util/random';
import { tinyModel } from '../helpers/tiny';

let teacher: FarmerModel;
let student: FarmerModel;
let net: FeatureNet;
let testSet: LabelledSet;

beforeAll(async () => {
  await tf.setBackend('cpu');
  teacher = tinyModel({ size: 8, patch: 2 }); // 3 classes, 16 tokens of 4 dims, 2 AF blocks
  const params = initStudentParams(teacher.params);
  // a student that has learned something else than the copy it starts from
  const rng = new Rng(21);
  for (const [name, t] of params)
    if (name.startsWith('af.') && name.endsWith('weight')) {
      params.set(
        name,
        tf.tidy(() => t.add(tf.tensor(rng.normals(t.size, 0.02), t.shape))),
      );
      t.dispose();
    }
  student = makeModel(studentConfig(teacher.config), params);
  net = {
    classifier: createClassifier({ height: 8, width: 8, channels: 1, heads: { digit: 3 } }, new Rng(11)),
    card: { dataset: 'tiny' },
  };
  const r = new Rng(12),
    n = 24;
  testSet = {
    n,
    height: 8,
    width: 8,
    channels: 1,
    numClasses: 3,
    images: Uint8Array.from({ length: n * 64 }, () => r.int(256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
  };
});

const N = 6;
const params = (over: Record<string, unknown> = {}): DistillParams =>
  experiment.params.parse({ n: N, keep: 3, repeats: 3, seed: 4, ...over }, student);

describe('distillation experiment', () => {
  let result: DistillResult;
  let teacherPx: Uint8Array, studentPx: Uint8Array;
  beforeAll(async () => {
    result = await experiment.run(student, { testSet, featureNet: net, teacher }, params());
    // the reference: latents from the teacher's own prior (the student carries a copy), decoded by each
    const labels = cyclingLabels(N, 3);
    const { z } = await sampleLatents(teacher, { n: N, seed: 4, labels });
    const zt = tf.tensor3d(z, [N, 16, 4]);
    const decodeWith = async (m: FarmerModel) => {
      const x = decodeLatents(m, zt, { labels });
      const px = modelToPixels((await x.data()) as Float32Array, m.config.dequantization);
      x.dispose();
      return px;
    };
    teacherPx = await decodeWith(teacher);
    studentPx = await decodeWith(student);
    zt.dispose();
  });

  it("compares the teacher's and the student's decodes of one set of latents, image by image", () => {
    expect(result.agreement).toHaveLength(N);
    let differs = false;
    for (let i = 0; i < N; i++) {
      const a = result.agreement[i]!;
      const s = studentPx.subarray(i * 64, (i + 1) * 64),
        t = teacherPx.subarray(i * 64, (i + 1) * 64);
      let abs = 0,
        sq = 0;
      for (let j = 0; j < 64; j++) {
        abs += Math.abs(s[j] - t[j]);
        sq += (s[j] - t[j]) ** 2;
      }
      expect(a.mae).toBeCloseTo(abs / 64, 12);
      if (sq === 0) expect(a.psnr).toBeNull();
      else expect(a.psnr).toBeCloseTo(10 * Math.log10(255 ** 2 / (sq / 64)), 10);
      expect(a.ssim).toBeCloseTo(
        ssim({ data: s, height: 8, width: 8, channels: 1 }, { data: t, height: 8, width: 8, channels: 1 }),
        12,
      );
      differs ||= abs > 0;
    }
    expect(differs).toBe(true); // the perturbed student is not the teacher
    expect(
      imageAgreement(
        { data: teacherPx.subarray(0, 64), height: 8, width: 8, channels: 1 },
        { data: teacherPx.subarray(0, 64), height: 8, width: 8, channels: 1 },
      ),
    ).toEqual({ mae: 0, psnr: null, ssim: 1 });
  });

  it('shows the first samples of both and their difference, and scores both sets as the metrics module does', async () => {
    const strip = (href: string) => decode(Buffer.from(href.replace('data:image/png;base64,', ''), 'base64'));
    const tiles = (png: ReturnType<typeof strip>) => {
      const out: number[] = [];
      for (let i = 0; i < 3; i++)
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) out.push(png.data[((1 + y) * png.width + 1 + i * 9 + x) * png.channels]);
      return out;
    };
    expect(tiles(strip(result.pictures!.teacher.href))).toEqual(Array.from(teacherPx.subarray(0, 192)));
    expect(tiles(strip(result.pictures!.student.href))).toEqual(Array.from(studentPx.subarray(0, 192)));
    expect(tiles(strip(result.pictures!.difference.href))).toEqual(
      Array.from(studentPx.subarray(0, 192), (v, i) => Math.min(255, 4 * Math.abs(v - teacherPx[i]))),
    );
    const real = await computeFeatures(net, testSet.images.subarray(0, N * 64), N);
    const realStats = featureStats(real.features, N, FEATURE_DIM);
    for (const [score, px] of [
      [result.teacher, teacherPx],
      [result.student, studentPx],
    ] as const) {
      expect(score.finite).toBe(N);
      const f = await computeFeatures(net, px, N);
      expect(score.fid).toBeCloseTo(frechetDistance(realStats, featureStats(f.features, N, FEATURE_DIM)), 8);
    }
  });

  it('times each decoder `repeats` times and reports medians and ratios', () => {
    const t = result.timing;
    expect(t.teacherRuns).toHaveLength(3);
    expect(t.studentRuns).toHaveLength(3);
    expect(t.teacherInversePerImage).toBe([...t.teacherRuns].sort((a, b) => a - b)[1]);
    expect(t.studentInversePerImage).toBe([...t.studentRuns].sort((a, b) => a - b)[1]);
    expect(t.arPerImage).toBeGreaterThan(0);
    expect(t.backend).toBe('cpu');
    const s = speedups(t);
    expect(s.inverse).toBeCloseTo(t.teacherInversePerImage / t.studentInversePerImage, 12);
    expect(s.whole).toBeCloseTo(
      (t.arPerImage + t.teacherInversePerImage) / (t.arPerImage + t.studentInversePerImage),
      12,
    );
  });

  it('builds its figures in jsdom, exports everything and reads it; leaves no tensor behind', async () => {
    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    const figs = [...experiment.figures(result, params(), doc)];
    expect(figs.map((f) => f.name)).toEqual(['pairs', 'timing', 'agreement']);
    expect([...figs[0].node.querySelectorAll('text')].map((t) => t.textContent)).toEqual(
      expect.arrayContaining(['teacher (AF inverse)', 'student (one pass)', 'y = 2']),
    );
    const json = experiment.toJSON(result, params()) as {
      mean_agreement: unknown;
      reading: string[];
      timing_s_per_image: { speedup_inverse: number };
    };
    expect(json.mean_agreement).toEqual(meanAgreement(result));
    expect(json.timing_s_per_image.speedup_inverse).toBeCloseTo(speedups(result.timing).inverse, 12);
    expect(json.reading).toEqual(describeResult(result));
    expect(json.reading[0]).toMatch(
      /^AF inverse per image on cpu: teacher \d+\.\d ms, student \d+\.\d ms \(\d+\.\d× faster; paper 22×\)/,
    );
    const tensors = tf.memory().numTensors;
    await experiment.run(student, { testSet, featureNet: net, teacher }, params({ repeats: 1 }));
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('refuses a teacher loaded as the model, a missing or mismatched teacher, with one clear message each', async () => {
    expect(() => experiment.params.parse({}, teacher)).toThrow(
      /load a student \(e\.g\. mnist-farmer-student\), not a teacher/,
    );
    expect(() => params({ repeats: 0 })).toThrow(/invalid repeats/);
    await expect(experiment.run(student, { testSet, featureNet: net }, params())).rejects.toThrow(
      /needs the student's teacher/,
    );
    const other = tinyModel({ size: 8, patch: 4 });
    await expect(experiment.run(student, { testSet, featureNet: net, teacher: other }, params())).rejects.toThrow(
      /not this student's teacher/,
    );
    await expect(experiment.run(student, { testSet, featureNet: net, teacher: student }, params())).rejects.toThrow(
      /itself a student/,
    );
  });
});

describe('a student card names its teacher', () => {
  const sha = 'ab'.repeat(32);
  it('reads the reference, finds the zoo entry by hash first, then by name, and checks the bytes', () => {
    expect(teacherOf({ teacher: { name: 'mnist-farmer.safetensors', sha256: sha, steps: 3 } })).toEqual({
      name: 'mnist-farmer.safetensors',
      sha256: sha,
    });
    expect(() => teacherOf({ dataset: 'mnist' })).toThrow(/names no teacher/);
    expect(() => teacherOf({ teacher: { name: 'x', sha256: 'short' } })).toThrow(/names no teacher/);
    const entries = [
      { name: 'a', file: 'a.safetensors' },
      { name: 'mnist-farmer', file: 'mnist-farmer.safetensors' },
      { name: 'b', file: 'b.safetensors', sha256: sha },
    ];
    expect(findTeacher(entries, { name: 'mnist-farmer.safetensors', sha256: sha })!.name).toBe('b');
    expect(findTeacher(entries.slice(0, 2), { name: 'mnist-farmer.safetensors', sha256: sha })!.name).toBe(
      'mnist-farmer',
    );
    expect(findTeacher(entries.slice(0, 1), { name: 'mnist-farmer.safetensors', sha256: sha })).toBeNull();
    expect(() => checkTeacherHash({ name: 'x', sha256: sha }, 'x', sha)).not.toThrow();
    expect(() => checkTeacherHash({ name: 'x', sha256: sha }, 'x in the zoo', 'cd'.repeat(32))).toThrow(
      /x in the zoo \(sha256 cdcdcdcdcdcd…\) is not the file this student was distilled from \(sha256 abababababab…\)/,
    );
  });
});
