// Run by fused.test.ts in a child process started with the Vulkan environment Dawn needs:
// every fused kernel on webgpu against its composition on cpu; prints one JSON line.
import { releaseGpuBackends } from '../../src/lib/tf/backend';
import { nodeHost } from '../../src/node/backend';
import { runFusedChecks } from './fused-checks';

const comparisons = await runFusedChecks(nodeHost);
releaseGpuBackends();
console.log(JSON.stringify(comparisons));
