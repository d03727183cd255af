// The fused WebGPU kernels (src/lib/tf/webgpu) on Dawn's SwiftShader adapter equal the unfused
// compositions on cpu within 1e-5 (relative to the output's size when it exceeds 1), values and
// gradients; a child process because Dawn needs its Vulkan environment at start.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Comparison } from './fused-checks';

const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('fused WebGPU kernels in Node (Dawn)', () => {
  it.skipIf(!existsSync(icd))('equal their compositions on cpu within 1e-5, values and gradients', async () => {
    const script = fileURLToPath(new URL('./fused-webgpu.script.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, LD_LIBRARY_PATH: '/usr/lib/chromium', VK_ICD_FILENAMES: icd },
      timeout: 300_000,
    });
    const comparisons: Record<string, Comparison> = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(Object.keys(comparisons).length).toBeGreaterThan(20);
    for (const [name, c] of Object.entries(comparisons)) {
      expect(c.scale, `${name}: a reference that is all zeros proves nothing`).toBeGreaterThan(0.5);
      expect(c.diff, name).toBeLessThanOrEqual(1e-5 * Math.max(1, c.scale));
    }
  });
});
