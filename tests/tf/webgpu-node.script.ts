// Run by backends.test.ts in a child process started with the Vulkan environment that Dawn
// needs (it must be set before the process starts): selects webgpu in Node, runs the tiny
// stack (over the whole sequence and token by token through the fused KV cache) and two training steps of a tiny FARMER on it and on cpu, and prints one JSON line.
import * as tf from '@tensorflow/tfjs';
import { releaseGpuBackends, selectBackend } from '../../src/lib/tf/backend';
import { nodeHost } from '../../src/node/backend';
import { runStack, stackWeights, tinyStack } from './fixtures';
import { tinyConfig } from '../helpers/tiny';
import { initParams } from '../../src/lib/farmer/params';
import { disposeTrainState, newTrainState, trainOneStep, type TrainOptions } from '../../src/lib/train/loop';
import { Rng } from '../../src/lib/util/random';

const weights = stackWeights(tinyStack, 3);
const shape: [number, number, number] = [2, 5, tinyStack.shape.width];
const h = new Rng(4).normals(shape[0] * shape[1] * shape[2]);

/** Two AdamW steps from the same weights and batches: the step logs and the trained weights. */
async function trainTiny() {
  const cfg = tinyConfig({ numClasses: 3 });
  const rng = new Rng(2),
    n = 12;
  const data = {
    n,
    images: Uint8Array.from({ length: n * 16 }, () => rng.int(256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
  };
  const options: TrainOptions = {
    steps: 2,
    batch: 4,
    seed: 1,
    lr: 1e-2,
    lrMin: 1e-3,
    warmup: 1,
    weightDecay: 0.03,
    clip: 1,
    ema: 0,
  };
  const state = newTrainState(initParams(cfg, { seed: 4 }), options);
  const logs = [await trainOneStep(cfg, state, data, options), await trainOneStep(cfg, state, data, options)];
  const trained: number[] = [];
  for (const v of state.vars.values()) trained.push(...((await v.data()) as Float32Array));
  disposeTrainState(state);
  return {
    parameterTensors: state.vars.size,
    logs: logs.map(({ loss, grad_norm, skipped }) => ({ loss, grad_norm, skipped })),
    trained,
  };
}

const report = await selectBackend('webgpu', { host: nodeHost, fallback: false });
const maxStorageBuffers = (
  tf.backend() as unknown as { device?: { limits: { maxStorageBuffersPerShaderStage: number } } }
).device?.limits.maxStorageBuffersPerShaderStage;
const webgpu = await runStack(weights, tinyStack, h, shape);
const webgpuCached = await runStack(weights, tinyStack, h, shape, true);
const webgpuTrain = await trainTiny();
await selectBackend('cpu', { host: nodeHost });
const cpu = await runStack(weights, tinyStack, h, shape);
const cpuTrain = await trainTiny();
releaseGpuBackends();
console.log(
  JSON.stringify({
    report,
    maxStorageBuffers,
    webgpu: [...webgpu],
    webgpuCached: [...webgpuCached],
    cpu: [...cpu],
    webgpuTrain,
    cpuTrain,
  }),
);
