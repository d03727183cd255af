// `farmer bench --targets`: the four figures issue 14 asks of a GPU, each beside its goal:
// teacher and student sampling images/s at n = 1000 (mnist-farmer and mnist-farmer-student from
// the zoo, or random weights of the reference configuration when the files are absent), forward
// images/s at batch 512, seconds per training step at batch 256. Sizes are options, so the same
// run checks itself on a CPU at a tiny setting (scripts/device/gpu-bench.sh, LOCALTEST=1).
import * as tf from '@tensorflow/tfjs';
import { referenceConfig } from '../../lib/farmer/config';
import { initParams } from '../../lib/farmer/params';
import { disposeParams } from '../../lib/nn/params';
import { makeModel, nllPerDim, trainingLoss, type FarmerModel } from '../../lib/farmer/model';
import { studentConfig } from '../../lib/farmer/distill';
import { sample } from '../../lib/farmer/sampling';
import { toVariables, trainStep } from '../../lib/train/step';
import { AdamW } from '../../lib/train/adamw';
import { loadModel } from '../../node/files';
import { Rng } from '../../lib/util/random';
import { timeIt, type Timing } from '../timing';

export interface TargetSizes {
  /** samples per sampling run */
  n: number;
  forwardBatch: number;
  trainBatch: number;
  reps: number;
}

export const ISSUE_SIZES: TargetSizes = { n: 1000, forwardBatch: 512, trainBatch: 256, reps: 3 };

/** The goals at the issue's sizes (images/s, or seconds for the training step). */
export const GOALS = {
  teacher_images_per_s: 300,
  student_images_per_s: 1500,
  forward_images_per_s: 3000,
  train_step_s: 0.25,
};

interface Models {
  teacher: FarmerModel;
  student: FarmerModel;
  source: string;
}

/** The teacher and student named (zoo names or files), or random reference weights when absent. */
async function zooOrRandom(teacherArg: string, studentArg: string): Promise<Models> {
  let t, s;
  try {
    [t, s] = [await loadModel(teacherArg), await loadModel(studentArg)];
  } catch {
    t = s = null;
  }
  if (t && s)
    return {
      teacher: makeModel(t.config, t.params),
      student: makeModel(s.config, s.params),
      source: `${t.source}, ${s.source}`,
    };
  {
    const params = initParams(referenceConfig, { seed: 0, projOutStd: 0.02 });
    return {
      teacher: makeModel(referenceConfig, params),
      student: makeModel(studentConfig(referenceConfig), params),
      source: 'random weights of the reference configuration (zoo files absent)',
    };
  }
}

async function samplingSpeed(model: FarmerModel, n: number, reps: number): Promise<Timing & { non_finite: number }> {
  const C = model.config.num_classes;
  const labels = C > 0 ? Int32Array.from({ length: n }, (_, i) => i % C) : null;
  let nonFinite = 0;
  const t = await timeIt(
    async () => {
      const r = await sample(model, { n, seed: 0, labels });
      nonFinite = r.finite.filter((ok) => !ok).length;
      tf.dispose([r.images, r.z]);
    },
    reps,
    n,
  );
  return { ...t, non_finite: nonFinite };
}

async function forwardSpeed(model: FarmerModel, B: number, reps: number): Promise<Timing> {
  const { height, width, channels } = model.config.image;
  const x = tf.tensor4d(new Rng(1).uniforms(B * height * width * channels, -1, 1), [B, height, width, channels]);
  try {
    return await timeIt(
      async () => {
        const nll = nllPerDim(model, x);
        await nll.data();
        nll.dispose();
      },
      reps,
      B,
    );
  } finally {
    x.dispose();
  }
}

async function trainSpeed(model: FarmerModel, B: number, reps: number): Promise<Timing> {
  const vars = toVariables(model.params);
  const trainable = makeModel(model.config, vars);
  const opt = new AdamW({ weightDecay: 0.03 });
  const { height, width, channels } = model.config.image;
  const x = tf.tensor4d(new Rng(2).uniforms(B * height * width * channels, -1, 1), [B, height, width, channels]);
  const labels = Int32Array.from({ length: B }, (_, i) => i % Math.max(1, model.config.num_classes));
  try {
    return await timeIt(
      async () => {
        await trainStep(vars, () => trainingLoss(trainable, x, labels), opt, 1e-4);
      },
      reps,
      B,
    );
  } finally {
    x.dispose();
    opt.dispose();
    for (const v of vars.values()) v.dispose();
  }
}

export async function benchTargets(
  sizes: TargetSizes,
  models: { teacher: string; student: string },
  say: (s: string) => void,
) {
  const { teacher, student, source } = await zooOrRandom(models.teacher, models.student);
  say(`  models: ${source}`);
  try {
    const t = await samplingSpeed(teacher, sizes.n, sizes.reps);
    say(`  teacher sampling, n = ${sizes.n}   ${t.images_per_s.toFixed(1)} images/s`);
    const s = await samplingSpeed(student, sizes.n, sizes.reps);
    say(`  student sampling, n = ${sizes.n}   ${s.images_per_s.toFixed(1)} images/s`);
    const f = await forwardSpeed(teacher, sizes.forwardBatch, sizes.reps);
    say(`  forward, batch ${sizes.forwardBatch}        ${f.images_per_s.toFixed(1)} images/s`);
    const tr = await trainSpeed(teacher, sizes.trainBatch, sizes.reps);
    say(`  training step, batch ${sizes.trainBatch}   ${tr.median_s.toFixed(3)} s`);
    const issueSizes =
      sizes.n === ISSUE_SIZES.n &&
      sizes.forwardBatch === ISSUE_SIZES.forwardBatch &&
      sizes.trainBatch === ISSUE_SIZES.trainBatch;
    return {
      models: source,
      sizes,
      teacher_sampling: t,
      student_sampling: s,
      forward: f,
      train_step: tr,
      goals: GOALS,
      // only meaningful at the issue's sizes
      met: issueSizes
        ? {
            teacher: t.images_per_s >= GOALS.teacher_images_per_s,
            student: s.images_per_s >= GOALS.student_images_per_s,
            forward: f.images_per_s >= GOALS.forward_images_per_s,
            train_step: tr.median_s <= GOALS.train_step_s,
          }
        : null,
    };
  } finally {
    disposeParams(teacher.params);
    if (student.params !== teacher.params) disposeParams(student.params);
  }
}
