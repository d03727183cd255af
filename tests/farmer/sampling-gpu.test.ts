// Sampling on webgpu (Dawn's SwiftShader adapter, in a child process) and on cpu: the same seed
// gives the same samples at batch 8 and in batches of 2, bit for bit on each backend, and webgpu's
// kernel draws equal the CPU sampler's within float rounding. The footprints that size GPU batches
// are at least what a batch holds.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { expectSameSamples } from './sampling-checks';

const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('sampling at every batch width, on webgpu and cpu', () => {
  it.skipIf(!existsSync(icd))(
    'same seed, batch 2 vs 8: the same samples; webgpu (kernel draws) equals cpu',
    async () => {
      const script = fileURLToPath(new URL('./sampling-webgpu.script.ts', import.meta.url));
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
        env: { ...process.env, LD_LIBRARY_PATH: '/usr/lib/chromium', VK_ICD_FILENAMES: icd },
        timeout: 300_000,
      });
      expectSameSamples(JSON.parse(stdout.trim().split('\n').at(-1)!));
    },
  );
});
