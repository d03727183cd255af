// Speed of the engine on the reference configuration (referenceConfig): medians over repeated runs.
import * as tf from '@tensorflow/tfjs';
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { setupBackend } from '../common';
import { referenceConfig, type FarmerConfig } from '../../lib/farmer/config';
import { initParams } from '../../lib/farmer/params';
import { disposeParams } from '../../lib/nn/params';
import { makeModel, nllPerDim, trainingLoss, type FarmerModel } from '../../lib/farmer/model';
import { afInverse } from '../../lib/farmer/af';
import { toVariables, trainStep } from '../../lib/train/step';
import {
  defaultTrainOptions,
  disposeTrainState,
  newTrainState,
  trainOneStep,
  type TrainOptions,
  type TrainingData,
} from '../../lib/train/loop';
import type { GradientHelpers } from '../../lib/train/data-parallel';
import type { BackendName } from '../../lib/tf/backend';
import { startGradientThreads } from '../../node/train-workers';
import { AdamW } from '../../lib/train/adamw';
import { useFastMatMulGradient } from '../../lib/tf/matmul-grad';
import { Rng } from '../../lib/util/random';
import { benchZoo } from './bench-zoo';
import { countPaths } from './bench-kernels';
import { benchTargets, ISSUE_SIZES } from './bench-targets';
import { timeIt, type Timing } from '../timing';

export const booleanFlags = ['engine-only', 'kernels', 'targets'];

export const usage = `farmer bench [--batch B] [--reps R] [--engine-only] [--kernels] [--workers N] [--backend wasm|cpu|webgpu] [--json]
  on the reference configuration (configs/mnist-farmer-bpd.json): forward images/s, training-step images/s with the
  stock and the explicit-transpose BatchMatMul gradient, AF inverse images/s with and without the
  KV cache, and the kernels one training step runs (Reshape and Identity not counted: what a
  dispatch-bound backend such as WebGPU pays for); then (unless --engine-only) training images/s
  for each configs/*.json, sampling images/s of a teacher and its one-step student, and FID time
  for 10k × feature-dim features.
  --workers N also times \`farmer train\`'s whole step (batch, AdamW, EMA) in one thread and with the
  batch shared by N threads, and their ratio.
  Each figure is the median of R timed runs after one warm-up run.
  --kernels counts instead of timing (batch default 2): the kernels per step of the cached AF inverse
  (one block), the AR sampling step, a forward pass and a training step; on webgpu these are GPU
  dispatches, beside the tfjs kernels (engine_kernels) that every backend reports.
  --targets [--n 1000] [--forward-batch 512] [--train-batch 256] [--teacher m] [--student m]
  times what issue 14 asks of a GPU, beside its goals: teacher and student sampling images/s at n
  (default mnist-farmer and mnist-farmer-student; random reference weights if they cannot be read),
  forward images/s and seconds per training step at those batches.`;

function randomInputs(cfg: FarmerConfig, B: number, seed: number): { x: tf.Tensor4D; labels: Int32Array } {
  const { height, width, channels } = cfg.image;
  const rng = new Rng(seed);
  const x = tf.tensor4d(rng.uniforms(B * height * width * channels, -1, 1), [B, height, width, channels]);
  const labels = Int32Array.from({ length: B }, () => rng.int(cfg.num_classes));
  return { x, labels };
}

async function benchForward(model: FarmerModel, B: number, reps: number): Promise<Timing> {
  const { x, labels } = randomInputs(model.config, B, 1);
  const t = await timeIt(
    async () => {
      const nll = nllPerDim(model, x, labels);
      await nll.data();
      nll.dispose();
    },
    reps,
    B,
  );
  x.dispose();
  return t;
}

/** Kernels that do work: Reshape and Identity only relabel a tensor's buffer. */
function countWorkKernels(kernels: { name: string }[]): number {
  return kernels.filter((k) => k.name !== 'Reshape' && k.name !== 'Identity').length;
}

async function benchTrainStep(
  model: FarmerModel,
  B: number,
  reps: number,
  fast: boolean,
): Promise<Timing & { kernels: number }> {
  useFastMatMulGradient(fast);
  const vars = toVariables(model.params);
  const trainable = makeModel(model.config, vars);
  const opt = new AdamW({ weightDecay: 0.03 });
  const { x, labels } = randomInputs(model.config, B, 2);
  try {
    const step = async () => {
      await trainStep(vars, () => trainingLoss(trainable, x, labels), opt, 1e-4);
    };
    const timing = await timeIt(step, reps, B);
    // what a dispatch-bound backend (WebGPU) pays for, per step
    const kernels = countWorkKernels((await tf.profile(step)).kernels);
    return { ...timing, kernels };
  } finally {
    useFastMatMulGradient(true);
    x.dispose();
    opt.dispose();
    for (const v of vars.values()) v.dispose();
  }
}

/** `farmer train`'s whole step (trainOneStep) on random images, in one thread and in `workers` threads. */
async function benchWorkers(
  cfg: FarmerConfig,
  B: number,
  reps: number,
  workers: number,
  backend: BackendName,
): Promise<{ one: Timing; parallel: Timing; workers: number; speedup: number }> {
  const rng = new Rng(4);
  const D = cfg.image.height * cfg.image.width * cfg.image.channels;
  const data: TrainingData = {
    n: 64,
    images: Uint8Array.from({ length: 64 * D }, () => rng.int(256)),
    labels: Uint8Array.from({ length: 64 }, () => rng.int(cfg.num_classes)),
  };
  const options: TrainOptions = { ...defaultTrainOptions, batch: B, steps: 1000 };
  const helpers = await startGradientThreads(workers - 1, cfg, backend);
  const time = async (h?: GradientHelpers) => {
    const state = newTrainState(initParams(cfg, { seed: 0, projOutStd: 0.02 }), options);
    try {
      return await timeIt(
        async () => {
          await trainOneStep(cfg, state, data, options, h);
        },
        reps,
        B,
      );
    } finally {
      disposeTrainState(state);
    }
  };
  try {
    const one = await time();
    const parallel = await time(helpers);
    return { one, parallel, workers, speedup: parallel.images_per_s / one.images_per_s };
  } finally {
    await helpers.dispose();
  }
}

async function benchInverse(model: FarmerModel, B: number, reps: number, cached: boolean): Promise<Timing> {
  const { tokens: N, tokenDim: d } = model.dims;
  const z = tf.tensor3d(new Rng(3).normals(B * N * d), [B, N, d]);
  const t = await timeIt(
    async () => {
      const x = afInverse(model.params, model.config, z, { cached });
      await x.data();
      x.dispose();
    },
    reps,
    B,
  );
  z.dispose();
  return t;
}

export async function run({ flags, json, out, log }: CommandContext): Promise<void> {
  if (flags.bool('targets')) return runTargets({ flags, json, out, log });
  const kernelsOnly = flags.bool('kernels');
  const batch = flags.int('batch', kernelsOnly ? 2 : 16),
    reps = flags.int('reps', 3);
  const engineOnly = flags.bool('engine-only');
  const workers = flags.int('workers', 1, { min: 1, max: 64 });
  const report = await setupBackend(flags);
  flags.finish();
  if (batch < 1 || reps < 1) throw new UsageError('--batch and --reps must be ≥ 1');
  const cfg = referenceConfig;
  const model = makeModel(cfg, initParams(cfg, { seed: 0, projOutStd: 0.02 }));
  const memBefore = tf.memory().numTensors;
  const say = (s: string) => {
    if (!json) log(s);
  };
  if (kernelsOnly) {
    say(`kernels on ${report.active}, reference configuration, batch ${batch}`);
    const counts = await countPaths(model, batch, say);
    const leaked = tf.memory().numTensors - memBefore;
    disposeParams(model.params);
    const result = {
      backend: report.active,
      config: 'reference (configs/mnist-farmer-bpd.json)',
      batch,
      ...counts,
      tensors_leaked: leaked,
    };
    if (json) out(JSON.stringify(result));
    else out(`kernels per step: ${JSON.stringify(counts.kernels)}`);
    return;
  }
  say(`bench on ${report.active}, reference configuration, batch ${batch}, median of ${reps}`);
  const forward = await benchForward(model, batch, reps);
  say(`  forward            ${forward.images_per_s.toFixed(1)} images/s`);
  const trainStock = await benchTrainStep(model, batch, reps, false);
  say(`  train step, stock  ${trainStock.images_per_s.toFixed(2)} images/s`);
  const trainFast = await benchTrainStep(model, batch, reps, true);
  say(`  train step, fixed  ${trainFast.images_per_s.toFixed(2)} images/s, ${trainFast.kernels} kernels a step`);
  const invBatch = Math.max(1, batch >> 1);
  const invCached = await benchInverse(model, invBatch, reps, true);
  say(`  inverse, cached    ${invCached.images_per_s.toFixed(2)} images/s`);
  const invUncached = await benchInverse(model, invBatch, reps, false);
  say(`  inverse, uncached  ${invUncached.images_per_s.toFixed(2)} images/s`);
  const leaked = tf.memory().numTensors - memBefore;
  let dataParallel: Awaited<ReturnType<typeof benchWorkers>> | null = null;
  if (workers > 1) {
    dataParallel = await benchWorkers(cfg, batch, reps, workers, report.active);
    say(`  train, 1 thread    ${dataParallel.one.images_per_s.toFixed(2)} images/s (farmer train's whole step)`);
    say(
      `  train, ${workers} threads   ${dataParallel.parallel.images_per_s.toFixed(2)} images/s (${dataParallel.speedup.toFixed(2)}×)`,
    );
  }
  const zoo = engineOnly ? null : await benchZoo({ batch, reps, say });
  disposeParams(model.params);
  const result = {
    backend: report.active,
    config: 'reference (configs/mnist-farmer-bpd.json)',
    batch,
    inverse_batch: invBatch,
    reps,
    forward,
    train_step: { stock: trainStock, fixed: trainFast, speedup: trainFast.images_per_s / trainStock.images_per_s },
    af_inverse: {
      cached: invCached,
      uncached: invUncached,
      speedup: invCached.images_per_s / invUncached.images_per_s,
    },
    tensors_leaked: leaked,
    data_parallel: dataParallel,
    zoo,
  };
  if (json) out(JSON.stringify(result));
  else {
    out(`train step speedup (fixed / stock gradient): ${result.train_step.speedup.toFixed(2)}×`);
    out(`AF inverse speedup (KV cache / none):        ${result.af_inverse.speedup.toFixed(2)}×`);
  }
}

async function runTargets({ flags, json, out, log }: CommandContext): Promise<void> {
  const atLeast1 = { min: 1 };
  const sizes = {
    n: flags.int('n', ISSUE_SIZES.n, atLeast1),
    forwardBatch: flags.int('forward-batch', ISSUE_SIZES.forwardBatch, atLeast1),
    trainBatch: flags.int('train-batch', ISSUE_SIZES.trainBatch, atLeast1),
    reps: flags.int('reps', ISSUE_SIZES.reps, atLeast1),
  };
  const models = {
    teacher: flags.str('teacher', 'mnist-farmer'),
    student: flags.str('student', 'mnist-farmer-student'),
  };
  const report = await setupBackend(flags);
  flags.finish();
  const say = (s: string) => {
    if (!json) log(s);
  };
  say(`issue 14 targets on ${report.active}, median of ${sizes.reps}`);
  const result = { backend: report.active, ...(await benchTargets(sizes, models, say)) };
  if (json) out(JSON.stringify(result));
  else if (result.met) out(`met: ${JSON.stringify(result.met)}`);
}
