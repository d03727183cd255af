// `farmer bench --kernels`: the kernels each hot path of the reference configuration launches,
// counted (not timed), so a CPU machine measures what a dispatch-bound GPU backend pays for.
import * as tf from '@tensorflow/tfjs';
import type { FarmerModel } from '../../lib/farmer/model';
import { nllPerDim, trainingLoss, makeModel } from '../../lib/farmer/model';
import { blockInverse } from '../../lib/farmer/af';
import { sampleLatents } from '../../lib/farmer/sampling';
import { toVariables, trainStep } from '../../lib/train/step';
import { AdamW } from '../../lib/train/adamw';
import { countKernels, type KernelCount } from '../../lib/tf/kernel-count';
import { Rng } from '../../lib/util/random';

export interface PathCount {
  /** kernels of the whole measured run */
  total: KernelCount;
  /** sequential steps in that run (tokens), 1 for forward and training */
  steps: number;
}

export interface KernelReport {
  /** per step: GPU dispatches on webgpu, tfjs kernels elsewhere */
  kernels: Record<'af_inverse_token_step' | 'ar_sample_step' | 'forward' | 'train_step', number>;
  /** per step: tfjs kernels (tf.profile, Reshape/Identity not counted) on every backend */
  engine_kernels: Record<'af_inverse_token_step' | 'ar_sample_step' | 'forward' | 'train_step', number>;
  paths: Record<string, PathCount>;
}

function images(model: FarmerModel, B: number, seed: number): tf.Tensor4D {
  const { height, width, channels } = model.config.image;
  return tf.tensor4d(new Rng(seed).uniforms(B * height * width * channels, -1, 1), [B, height, width, channels]);
}

/** One block's KV-cached inverse: N − 1 token steps. */
async function inversePath(model: FarmerModel, B: number): Promise<PathCount> {
  const { tokens: N, tokenDim: d } = model.dims;
  const z = tf.tensor3d(new Rng(3).normals(B * N * d), [B, N, d]);
  const total = await countKernels(async () => {
    const x = blockInverse(model.params, model.config, 0, z);
    await x.data();
    x.dispose();
  });
  z.dispose();
  return { total, steps: N - 1 };
}

/** The AR prior's token-by-token draw of Z: the prefix, then N tokens (N + 1 head outputs). */
async function arPath(model: FarmerModel, B: number): Promise<PathCount> {
  const total = await countKernels(() => sampleLatents(model, { n: B, seed: 4 }));
  return { total, steps: model.dims.tokens + 1 };
}

async function forwardPath(model: FarmerModel, B: number): Promise<PathCount> {
  const x = images(model, B, 1);
  const total = await countKernels(async () => {
    const nll = nllPerDim(model, x);
    await nll.data();
    nll.dispose();
  });
  x.dispose();
  return { total, steps: 1 };
}

async function trainPath(model: FarmerModel, B: number): Promise<PathCount> {
  const vars = toVariables(model.params);
  const trainable = makeModel(model.config, vars);
  const opt = new AdamW({ weightDecay: 0.03 });
  const x = images(model, B, 2);
  const labels = Int32Array.from({ length: B }, (_, i) => i % Math.max(1, model.config.num_classes));
  const step = () => trainStep(vars, () => trainingLoss(trainable, x, labels), opt, 1e-4);
  try {
    await step(); // the first step creates AdamW's moments; count a steady one
    return { total: await countKernels(step), steps: 1 };
  } finally {
    x.dispose();
    opt.dispose();
    for (const v of vars.values()) v.dispose();
  }
}

const perStep = (p: PathCount, n: number | null) => Math.round(((n ?? p.total.engine) / p.steps) * 10) / 10;

/** Kernels per step of the four hot paths at batch B. */
export async function countPaths(model: FarmerModel, B: number, say: (s: string) => void): Promise<KernelReport> {
  const paths: Record<string, PathCount> = {};
  paths.af_inverse_token_step = await inversePath(model, B);
  say(
    `  AF inverse (one block, KV cache)  ${JSON.stringify(paths.af_inverse_token_step.total.dispatches ?? paths.af_inverse_token_step.total.engine)} kernels over ${paths.af_inverse_token_step.steps} token steps`,
  );
  paths.ar_sample_step = await arPath(model, B);
  say(
    `  AR sampling                       ${paths.ar_sample_step.total.dispatches ?? paths.ar_sample_step.total.engine} kernels over ${paths.ar_sample_step.steps} steps`,
  );
  paths.forward = await forwardPath(model, B);
  say(`  forward                           ${paths.forward.total.dispatches ?? paths.forward.total.engine} kernels`);
  paths.train_step = await trainPath(model, B);
  say(
    `  training step                     ${paths.train_step.total.dispatches ?? paths.train_step.total.engine} kernels`,
  );
  const keys = ['af_inverse_token_step', 'ar_sample_step', 'forward', 'train_step'] as const;
  const kernels = Object.fromEntries(
    keys.map((k) => [k, perStep(paths[k], paths[k].total.dispatches)]),
  ) as KernelReport['kernels'];
  const engine = Object.fromEntries(keys.map((k) => [k, perStep(paths[k], null)])) as KernelReport['engine_kernels'];
  return { kernels, engine_kernels: engine, paths };
}
