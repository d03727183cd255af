// The fused WebGPU kernels (src/lib/tf/webgpu) on headless Chromium's WebGPU adapter equal the
// unfused compositions on cpu within 1e-5 (relative above 1), values and gradients.
import { describe, expect, it } from 'vitest';
import { runFusedChecks } from '../tf/fused-checks';

describe('fused WebGPU kernels in Chromium', () => {
  it('equal their compositions on cpu within 1e-5, values and gradients', async () => {
    const comparisons = await runFusedChecks();
    expect(Object.keys(comparisons).length).toBeGreaterThan(20);
    for (const [name, c] of Object.entries(comparisons)) {
      expect(c.scale, `${name}: a reference that is all zeros proves nothing`).toBeGreaterThan(0.5);
      expect(c.diff, name).toBeLessThanOrEqual(1e-5 * Math.max(1, c.scale));
    }
  });
});
