// A tiny timing probe of a model on the active backend, for choosing a backend by measurement
// (src/lib/runtime/backend-choice.ts): a forward pass of a few images, and a few sequential
// sampling steps (an AR decoding step, or an AF token step for a Gaussian prior), each after a
// warm-up run that compiles what it needs. Milliseconds; never an assertion anywhere.
import * as tf from '@tensorflow/tfjs';
import type { FarmerModel } from './model';
import { analyzeForward, disposeAnalysis } from './model';
import { ArDecoder } from './prior';
import { blockInverse } from './af';
import { nullLabels } from './labels';
import { Rng } from '../util/random';

export interface ProbeTimes {
  /** ms per image of a forward pass (a batch of PROBE_BATCH) */
  forwardMs: number;
  /** ms per sequential sampling step (a batch of PROBE_BATCH) */
  sampleStepMs: number;
}

export const PROBE_BATCH = 4;
const STEPS = 4;

async function timed(run: () => Promise<void>): Promise<number> {
  await run(); // warm-up: shaders compile, buffers are pooled
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

async function forwardMs(model: FarmerModel): Promise<number> {
  const { height, width, channels } = model.config.image;
  const x = tf.tensor4d(new Rng(1).uniforms(PROBE_BATCH * height * width * channels, -1, 1), [
    PROBE_BATCH,
    height,
    width,
    channels,
  ]);
  try {
    return (
      (await timed(async () => {
        const a = analyzeForward(model, x);
        await a.nllPerDim.data();
        disposeAnalysis(a);
      })) / PROBE_BATCH
    );
  } finally {
    x.dispose();
  }
}

/** STEPS AR decoding steps after the prefix, read back at the end (as the GPU sampler does). */
async function arStepMs(model: FarmerModel): Promise<number> {
  const { tokens: N, informative: dI } = model.dims;
  const tokens = tf.zeros([PROBE_BATCH, N, dI]) as tf.Tensor3D;
  try {
    return (
      (await timed(async () => {
        const decoder = new ArDecoder(model.params, model.config, PROBE_BATCH);
        let head = decoder.start(nullLabels(PROBE_BATCH));
        for (let i = 0; i < Math.min(STEPS, N - 1); i++) {
          const next = decoder.feedFrom(tokens, i);
          head.dispose();
          head = next;
        }
        await head.data();
        head.dispose();
        decoder.dispose();
      })) /
      (Math.min(STEPS, N - 1) + 1)
    );
  } finally {
    tokens.dispose();
  }
}

/** One AF block's KV-cached inverse, per token step. */
async function afStepMs(model: FarmerModel): Promise<number> {
  const { tokens: N, tokenDim: d } = model.dims;
  const z = tf.tensor3d(new Rng(3).normals(PROBE_BATCH * N * d), [PROBE_BATCH, N, d]);
  try {
    return (
      (await timed(async () => {
        const x = blockInverse(model.params, model.config, 0, z);
        await x.data();
        x.dispose();
      })) / Math.max(1, N - 1)
    );
  } finally {
    z.dispose();
  }
}

/** Both timings; a distilled student (no likelihood) reports its decoding step for both. */
export async function probeModel(model: FarmerModel): Promise<ProbeTimes> {
  const sampleStepMs = model.config.prior.kind === 'farmer' ? await arStepMs(model) : await afStepMs(model);
  const forward = model.config.student ? sampleStepMs : await forwardMs(model);
  return { forwardMs: forward, sampleStepMs };
}
