// Sampling in Chromium on its WebGPU adapter and on cpu: same seed, batch 2 vs 8 → the same
// samples; webgpu's kernel draws equal the CPU sampler's (assertions in tests/farmer/sampling-checks.ts).
import { describe, it } from 'vitest';
import { expectSameSamples, runSamplingChecks } from '../farmer/sampling-checks';

describe('sampling in Chromium', () => {
  it('same seed, batch 2 vs 8: the same samples; webgpu equals cpu', async () => {
    expectSameSamples(await runSamplingChecks());
  });
});
