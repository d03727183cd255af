// A tiny FARMER flow forward (Eqs. 8–10) and its KV-cached inverse on webgpu, webgl and wasm in
// Chromium agree with the cpu backend (the inverse decodes token by token through the KV cache).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../../src/lib/tf/backend';
import { afForward, afInverse } from '../../src/lib/farmer/af';
import { dimsOf, parseConfig, type FarmerConfig } from '../../src/lib/farmer/config';
import { initParams } from '../../src/lib/farmer/params';
import type { Params } from '../../src/lib/nn/params';
import { Rng } from '../../src/lib/util/random';
import { maxAbsDiff } from '../tf/fixtures';

/** 4×4×1 images in 2×2 patches: N = 4 tokens of d = 4; two blocks of one layer, width 16. */
const cfg: FarmerConfig = parseConfig({
  image: { height: 4, width: 4, channels: 1 },
  patch_size: 2,
  num_classes: 0,
  af: { blocks: 2, layers_per_block: 1, width: 16, head_dim: 8, mlp_ratio: 2, class_conditional: false, soft_clip: 0 },
  prior: { kind: 'gaussian' },
  dequantization: { kind: 'uniform' },
  label_dropout: 0,
});
const B = 2;
const { tokens: N, tokenDim: d } = dimsOf(cfg);
const x = new Rng(9).normals(B * N * d, 0.5);

/** Weights as plain arrays (identical on every backend), large enough that every block transforms. */
const weights = (() => {
  const init = initParams(cfg, { seed: 5, projOutStd: 0.3 });
  const host = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, t] of init) {
    const scale = name.endsWith('pos_embed') ? 20 : 1;
    host.set(name, { shape: t.shape, values: (t.dataSync() as Float32Array).map((v) => v * scale) });
  }
  tf.dispose([...init.values()]);
  return host;
})();

interface FlowResult {
  z: Float32Array;
  logdet: Float32Array;
  logdetPerToken: Float32Array;
  /** afInverse(z) with the key/value cache */
  x: Float32Array;
}

async function runFlow(): Promise<FlowResult> {
  const params: Params = new Map();
  for (const [name, { shape, values }] of weights) params.set(name, tf.tensor(values, shape));
  const f = afForward(params, cfg, tf.tensor3d(x, [B, N, d]));
  const back = afInverse(params, cfg, f.z);
  const [z, logdet, logdetPerToken, xr] = (await Promise.all(
    [f.z, f.logdet, f.logdetPerToken, back].map((t) => t.data()),
  )) as Float32Array[];
  tf.dispose([f.z, f.logdet, f.logdetPerBlock, f.logdetPerToken, back, ...f.latents, ...params.values()]);
  return { z, logdet, logdetPerToken, x: xr };
}

describe('a tiny model across backends in Chromium', () => {
  let cpu: FlowResult;

  beforeAll(async () => {
    expect((await selectBackend('cpu')).active).toBe('cpu');
    cpu = await runFlow();
  });

  it('the cpu reference really transforms and inverts', () => {
    expect(maxAbsDiff(cpu.z, x)).toBeGreaterThan(0.1);
    expect(Math.max(...cpu.logdet.map(Math.abs))).toBeGreaterThan(0.1);
    expect(maxAbsDiff(cpu.x, x)).toBeLessThanOrEqual(1e-4);
  });

  it.each<BackendName>(['webgpu', 'wasm', 'webgl'])(
    '%s: flow forward and cached inverse equal cpu within 1e-4',
    async (name) => {
      expect((await selectBackend(name, { fallback: false })).active).toBe(name);
      const got = await runFlow();
      expect(maxAbsDiff(got.z, cpu.z), 'z').toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(got.logdet, cpu.logdet), 'logdet').toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(got.logdetPerToken, cpu.logdetPerToken), 'logdet per token').toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(got.x, x), 'inverse').toBeLessThanOrEqual(1e-4);
    },
  );
});
