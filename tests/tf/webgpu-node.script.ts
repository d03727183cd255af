// Run by backends.test.ts in a child process started with the Vulkan environment that Dawn
// needs (it must be set before the process starts): selects webgpu in Node, runs the tiny
// stack on it and on cpu, and prints one JSON line.
import { releaseGpuBackends, selectBackend } from '../../src/lib/tf/backend';
import { runStack, stackWeights, tinyStack } from './fixtures';
import { Rng } from '../../src/lib/util/random';

const weights = stackWeights(tinyStack, 3);
const shape: [number, number, number] = [2, 5, tinyStack.shape.width];
const h = new Rng(4).normals(shape[0] * shape[1] * shape[2]);
const report = await selectBackend('webgpu', { fallback: false });
const webgpu = await runStack(weights, tinyStack, h, shape);
await selectBackend('cpu');
const cpu = await runStack(weights, tinyStack, h, shape);
releaseGpuBackends();
console.log(JSON.stringify({ report, webgpu: [...webgpu], cpu: [...cpu] }));
