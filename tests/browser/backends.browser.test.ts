// Every backend of headless Chromium is selected honestly and computes what the cpu backend does.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../../src/lib/tf/backend';
import { Rng } from '../../src/lib/util/random';

const rng = new Rng(42);
const a = rng.normals(3 * 5);
const b = rng.normals(5 * 4);
const logits = rng.normals(4 * 7, 3);
const u = rng.uniforms(16, -3, 3);

/** matMul, softmax and erf of the fixed inputs on the active backend. */
async function probes(): Promise<Record<'matMul' | 'softmax' | 'erf', Float32Array>> {
  const ts = tf.tidy(() => [
    tf.matMul(tf.tensor2d(a, [3, 5]), tf.tensor2d(b, [5, 4])),
    tf.softmax(tf.tensor2d(logits, [4, 7])),
    tf.erf(tf.tensor1d(u)),
  ]);
  const [matMul, softmax, erf] = (await Promise.all(ts.map((t) => t.data()))) as Float32Array[];
  tf.dispose(ts);
  return { matMul, softmax, erf };
}

function maxDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

describe('backends in headless Chromium', () => {
  let reference: Awaited<ReturnType<typeof probes>>;

  beforeAll(async () => {
    expect((await selectBackend('cpu')).active).toBe('cpu');
    reference = await probes();
  });

  it('is served from a secure context with navigator.gpu', () => {
    expect(window.isSecureContext).toBe(true);
    expect('gpu' in navigator).toBe(true);
  });

  it.each<BackendName>(['webgpu', 'webgl', 'wasm'])(
    '%s is selected when asked for and matches cpu within 1e-5',
    async (name) => {
      const report = await selectBackend(name);
      expect(report.attempts[0]).toMatchObject({ name, tried: true, ok: true });
      expect(report.active).toBe(name);
      expect(tf.getBackend()).toBe(name);
      const got = await probes();
      for (const op of ['matMul', 'softmax', 'erf'] as const)
        expect(maxDiff(got[op], reference[op]), op).toBeLessThanOrEqual(1e-5);
    },
  );

  it('auto picks the first backend that works and gives a reason for each one passed over', async () => {
    const report = await selectBackend('auto');
    const ok = report.attempts.filter((x) => x.ok);
    expect(ok).toHaveLength(1);
    expect(report.attempts.at(-1)).toEqual(ok[0]);
    expect(report.active).toBe(ok[0].name);
    for (const skipped of report.attempts.slice(0, -1)) expect(skipped.reason.length).toBeGreaterThan(10);
    // Here the only GPU is SwiftShader, which auto leaves for wasm; on real hardware webgpu wins.
    const gpu = report.attempts.find((x) => x.name === 'webgpu')!;
    if (!gpu.ok) expect(gpu.reason).toMatch(/software adapter|requestAdapter|navigator\.gpu/);
  });

  it('auto takes a software GPU when allowed', async () => {
    const report = await selectBackend('auto', { allowSoftwareGpu: true });
    expect(report.active).toBe('webgpu');
    expect(report.attempts).toHaveLength(1);
  });
});
