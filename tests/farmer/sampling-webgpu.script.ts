// Run by sampling-gpu.test.ts in a child process with Dawn's Vulkan environment; one JSON line.
import { releaseGpuBackends } from '../../src/lib/tf/backend';
import { nodeHost } from '../../src/node/backend';
import { runSamplingChecks } from './sampling-checks';

const checks = await runSamplingChecks(nodeHost);
releaseGpuBackends();
console.log(JSON.stringify(checks));
