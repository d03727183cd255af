// Backend selection in Node says what it did, and wasm (and Dawn's webgpu) compute the
// Transformer stack as cpu does.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend, type BackendHost } from '../../src/lib/tf/backend';
import { nodeHost } from '../../src/node/backend';
import { maxAbsDiff, runStack, stackWeights, tinyStack } from './fixtures';
import { Rng } from '../../src/lib/util/random';

describe('selectBackend in Node', () => {
  it('cpu, when asked for, is the only attempt', async () => {
    const report = await selectBackend('cpu', { host: nodeHost });
    expect(report).toEqual({
      active: 'cpu',
      requested: 'cpu',
      attempts: [{ name: 'cpu', tried: true, ok: true, reason: 'verified on plain JavaScript' }],
    });
    expect(tf.getBackend()).toBe('cpu');
    expect(describeBackend(report)).toBe('cpu');
  });

  it('webgl falls back with the reason, never pretending', async () => {
    const report = await selectBackend('webgl', { host: nodeHost });
    expect(report.requested).toBe('webgl');
    expect(report.active).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.attempts[0]).toEqual({
      name: 'webgl',
      tried: false,
      ok: false,
      reason: 'not registered: WebGL exists only in browsers',
    });
    expect(report.attempts.at(-1)).toMatchObject({ name: 'wasm', tried: true, ok: true });
    expect(describeBackend(report)).toMatch(/^wasm \(requested webgl; webgl: not registered/);
  });

  it('auto skips Dawn webgpu with a reason: no Vulkan driver, or a software one', async () => {
    const report = await selectBackend('auto', { host: nodeHost });
    expect(report.active).toBe('wasm');
    expect(report.attempts.map((a) => a.name)).toEqual(['webgpu', 'webgl', 'wasm']);
    const reason = report.attempts[0].reason;
    if (process.env.VK_ICD_FILENAMES) expect(reason).toMatch(/software adapter \(SwiftShader/);
    else
      expect(reason).toMatch(
        /^requestAdapter returned null: Dawn found no Vulkan driver; start node with LD_LIBRARY_PATH=/,
      );
  });

  it('without fallback a missing backend is an error naming the reason', async () => {
    await expect(selectBackend('webgl', { host: nodeHost, fallback: false })).rejects.toThrow(/webgl: not registered/);
    await expect(selectBackend('tpu' as 'cpu')).rejects.toThrow(/invalid backend "tpu"/);
  });

  it('asks for the Node host instead of importing src/node/ from the library', async () => {
    await expect(selectBackend('cpu')).rejects.toThrow(/in Node, pass the host/);
  });

  describe('a registered backend that fails', () => {
    const fakeHost: BackendHost = { ...nodeHost, webglRenderer: async () => 'Fake GPU' };
    afterEach(() => tf.removeBackend('webgl'));

    it('reports setBackend returning false, with the error tfjs only logged', async () => {
      tf.registerBackend('webgl', async () => {
        throw new Error('no context for you');
      });
      const report = await selectBackend('webgl', { host: fakeHost });
      expect(report.attempts[0]).toEqual({
        name: 'webgl',
        tried: true,
        ok: false,
        reason: 'setBackend returned false: no context for you',
      });
      expect(report.active).toBe('wasm');
    });

    it('reports a backend that switches but cannot compute', async () => {
      const cpu = tf.findBackend('cpu')!;
      tf.registerBackend('webgl', () => new (cpu.constructor as new () => tf.KernelBackend)());
      const report = await selectBackend('webgl', { host: fakeHost });
      expect(report.attempts[0]).toMatchObject({ name: 'webgl', tried: true, ok: false });
      // @tensorflow/tfjs registers the WebGL kernels even in Node; on a cpu instance they throw
      expect(report.attempts[0].reason).toMatch(/^check computation failed: /);
      expect(report.active).toBe('wasm');
    });

    it('skips a software renderer under auto but uses it when named', async () => {
      const slowHost: BackendHost = {
        ...fakeHost,
        webglRenderer: async () => 'ANGLE (SwiftShader Device)',
        webgpu: async () => 'navigator.gpu missing',
      };
      tf.registerBackend('webgl', async () => {
        throw new Error('unreachable');
      });
      const auto = await selectBackend('auto', { host: slowHost });
      expect(auto.attempts[1]).toMatchObject({
        name: 'webgl',
        tried: false,
        reason: expect.stringMatching(/^software renderer \(ANGLE \(SwiftShader Device\)\) skipped/),
      });
      const named = await selectBackend('webgl', { host: slowHost });
      expect(named.attempts[0]).toMatchObject({ name: 'webgl', tried: true, ok: false });
    });
  });
});

describe('the Transformer stack across backends', () => {
  const weights = stackWeights(tinyStack, 3);
  const shape: [number, number, number] = [2, 5, tinyStack.shape.width];
  const h = new Rng(4).normals(shape[0] * shape[1] * shape[2]);

  it('wasm equals cpu within 1e-4, over the full sequence and token by token with the KV cache', async () => {
    await selectBackend('cpu', { host: nodeHost });
    const cpu = await runStack(weights, tinyStack, h, shape);
    const cpuCached = await runStack(weights, tinyStack, h, shape, true);
    expect((await selectBackend('wasm', { host: nodeHost })).active).toBe('wasm');
    const wasm = await runStack(weights, tinyStack, h, shape);
    const wasmCached = await runStack(weights, tinyStack, h, shape, true);
    expect(Math.max(...cpu.map(Math.abs))).toBeGreaterThan(0.5);
    expect(maxAbsDiff(wasm, cpu)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(cpuCached, cpu)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(wasmCached, cpu)).toBeLessThanOrEqual(1e-4);
  });

  const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
  it.skipIf(!existsSync(icd))(
    'webgpu through Dawn (a child process with the Vulkan environment) equals cpu within 1e-4, whole and KV-cached, and so do two training steps',
    async () => {
      const script = fileURLToPath(new URL('./webgpu-node.script.ts', import.meta.url));
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
        env: { ...process.env, LD_LIBRARY_PATH: '/usr/lib/chromium', VK_ICD_FILENAMES: icd },
        timeout: 150_000,
      });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(out.report.active).toBe('webgpu');
      expect(out.report.attempts[0].reason).toMatch(/^verified on adapter /);
      expect(maxAbsDiff(out.webgpu, out.cpu)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(out.webgpuCached, out.cpu)).toBeLessThanOrEqual(1e-4);
      // Training: more parameter tensors than one WebGPU shader may bind (a sum of all the
      // gradient norms in one tf.addN once invalidated every step there: loss 0, no update).
      expect(out.webgpuTrain.parameterTensors).toBeGreaterThan(out.maxStorageBuffers);
      for (const [g, c] of out.webgpuTrain.logs.map((l: object, i: number) => [l, out.cpuTrain.logs[i]])) {
        expect(g.skipped).toBe(false);
        expect(Math.abs(g.loss - c.loss)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(c.loss)));
        expect(Math.abs(g.grad_norm - c.grad_norm)).toBeLessThanOrEqual(1e-3 * c.grad_norm);
      }
      expect(maxAbsDiff(out.webgpuTrain.trained, out.cpuTrain.trained)).toBeLessThanOrEqual(1e-4);
    },
  );
});
