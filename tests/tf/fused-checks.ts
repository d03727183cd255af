// Each fused WebGPU kernel against the unfused composition it replaces: the composition on the
// cpu backend, the kernel on webgpu (Dawn in Node, or Chromium's adapter), the same inputs made
// from the same Float32Arrays on each. Values and gradients (of Σ y·R for a fixed random R).
// Used by fused.test.ts (through fused-webgpu.script.ts) and tests/browser/fused.browser.test.ts.
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendHost } from '../../src/lib/tf/backend';
import { gelu, layerNorm, linear } from '../../src/lib/nn/layers';
import { causalBias } from '../../src/lib/nn/attention';
import { layerNormGpu } from '../../src/lib/tf/webgpu/layer-norm';
import { linearGpu } from '../../src/lib/tf/webgpu/linear-grad';
import type { Pre } from '../../src/lib/tf/webgpu/linear';
import { attentionGpu } from '../../src/lib/tf/webgpu/attention';
import { mlpGpu } from '../../src/lib/tf/webgpu/mlp';
import { attendCached, createQkvCache, writeQkv, type CacheLayer } from '../../src/lib/tf/webgpu/kv-cache';
import { affineToken, embedToken, freshCopy } from '../../src/lib/tf/webgpu/token';
import { assembleLatent, drawTokenInto, drawTokens } from '../../src/lib/tf/webgpu/gmm-draw';
import { gmmFromRow, sampleGmm } from '../../src/lib/farmer/gmm';
import { Rng } from '../../src/lib/util/random';

type Host = { shape: number[]; values: Float32Array };
/** max |kernel − composition| and max |composition| of one output */
export interface Comparison {
  diff: number;
  scale: number;
}

interface Check {
  name: string;
  inputs: Record<string, Host>;
  /** the unfused composition (runs on cpu) */
  reference: (t: Record<string, tf.Tensor>) => tf.Tensor;
  /** the fused kernel (runs on webgpu) */
  fused: (t: Record<string, tf.Tensor>) => tf.Tensor;
  /** inputs to differentiate with respect to */
  wrt?: string[];
}

function host(rng: Rng, shape: number[], std = 1, mean = 0): Host {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: rng.normals(n, std).map((v) => v + mean) };
}

/** softmax(s·QKᵀ + mask)V per head, from qkv [B, T, 3W], as nn/attention composes it. */
function attentionReference(qkv: tf.Tensor, heads: number, causal: boolean, scale: number): tf.Tensor {
  const [B, T, W3] = qkv.shape;
  const W = W3 / 3,
    hd = W / heads;
  const [q, k, v] = tf.split(qkv, 3, 2).map((p) => p.reshape([B, T, heads, hd]).transpose([0, 2, 1, 3]));
  let logits = tf.matMul(q, k.transpose([0, 1, 3, 2])).mul(scale);
  if (causal) logits = logits.add(causalBias(T, T));
  return tf.matMul(tf.softmax(logits), v).transpose([0, 2, 1, 3]).reshape([B, T, W]);
}

function linearReference(t: Record<string, tf.Tensor>, pre: Pre, post: 'none' | 'gelu'): tf.Tensor {
  let x = t.x;
  if (pre === 'ln') x = layerNorm(x, t.gamma, t.beta);
  if (pre === 'gelu') x = gelu(x);
  let y = linear(x, t.weight, t.bias);
  if (post === 'gelu') y = gelu(y);
  if (!t.residual) return y;
  const N = t.weight.shape[0];
  const R = t.residual.size / N;
  return y
    .reshape([-1, R, N])
    .add(t.residual.reshape([R, N]))
    .reshape(y.shape);
}

function checks(): Check[] {
  const rng = new Rng(11);
  const out: Check[] = [];
  const ln = (W: number, rows: number[]) => ({
    x: host(rng, [...rows, W], 2, 0.5),
    gamma: host(rng, [W], 0.3, 1),
    beta: host(rng, [W], 0.3),
  });
  for (const W of [24, 130]) {
    out.push({
      name: `layerNorm W=${W}`,
      inputs: ln(W, [3, 5]),
      reference: (t) => layerNorm(t.x, t.gamma, t.beta),
      fused: (t) => layerNormGpu(t.x, t.gamma, t.beta),
      wrt: ['x', 'gamma', 'beta'],
    });
  }
  const variants: { name: string; pre: Pre; post: 'none' | 'gelu'; residual?: 'full' | 'table' }[] = [
    { name: 'linear', pre: 'none', post: 'none' },
    { name: 'LN + linear + residual', pre: 'ln', post: 'none', residual: 'full' },
    { name: 'GELU + linear + residual', pre: 'gelu', post: 'none', residual: 'full' },
    { name: 'linear + GELU', pre: 'none', post: 'gelu' },
    { name: 'LN + linear + GELU', pre: 'ln', post: 'gelu' },
    { name: 'linear + positional table', pre: 'none', post: 'none', residual: 'table' },
  ];
  for (const v of variants) {
    const [B, T, K, N] = [2, 7, 20, 37];
    const inputs: Record<string, Host> = {
      x: host(rng, [B, T, K], 1.5, 0.2),
      weight: host(rng, [N, K], 0.4),
      bias: host(rng, [N], 0.3),
    };
    if (v.pre === 'ln') Object.assign(inputs, { gamma: host(rng, [K], 0.3, 1), beta: host(rng, [K], 0.3) });
    if (v.residual) inputs.residual = host(rng, v.residual === 'full' ? [B, T, N] : [T, N]);
    out.push({
      name: v.name,
      inputs,
      reference: (t) => linearReference(t, v.pre, v.post),
      fused: (t) =>
        linearGpu(t.x, t.weight, t.bias, {
          pre: v.pre,
          post: v.post,
          gamma: t.gamma,
          beta: t.beta,
          residual: t.residual,
        }),
      wrt: Object.keys(inputs),
    });
  }
  for (const [causal, temp] of [
    [true, 1],
    [false, 1.7],
  ] as const) {
    const [B, T, heads, hd] = [2, 9, 2, 8];
    const scale = 1 / (Math.sqrt(hd) * temp);
    out.push({
      name: `attention ${causal ? 'causal' : 'bidirectional, temperature 1.7'}`,
      inputs: { qkv: host(rng, [B, T, 3 * heads * hd], 1.2) },
      reference: (t) => attentionReference(t.qkv, heads, causal, scale),
      fused: (t) => attentionGpu(t.qkv as tf.Tensor3D, { heads, causal, scale }),
      wrt: ['qkv'],
    });
  }
  out.push(...sequentialChecks(rng));
  return out;
}

/** An Rng that hands out given numbers, so the CPU sampler draws with the GPU kernel's noise. */
class ScriptedRng extends Rng {
  private i = 0;
  constructor(private readonly numbers: Float32Array) {
    super(0);
  }
  override uniform(): number {
    return this.numbers[this.i++];
  }
  override normal(): number {
    return this.numbers[this.i++];
  }
}

/** The decode-time kernels: KV cache, MLP row kernel, token embedding and update, GMM draws. */
function sequentialChecks(rng: Rng): Check[] {
  const out: Check[] = [];
  const [B, W, hidden, heads] = [2, 16, 40, 2];
  const mlp = {
    h: host(rng, [B, 5, W], 1.5),
    gamma: host(rng, [W], 0.3, 1),
    beta: host(rng, [W], 0.3),
    w1: host(rng, [hidden, W], 0.4),
    b1: host(rng, [hidden], 0.3),
    w2: host(rng, [W, hidden], 0.3),
    b2: host(rng, [W], 0.3),
  };
  out.push({
    name: 'MLP row kernel (LN + fc1 + GELU + fc2 + residual)',
    inputs: mlp,
    reference: (t) => t.h.add(linear(gelu(linear(layerNorm(t.h, t.gamma, t.beta), t.w1, t.b1)), t.w2, t.b2)),
    fused: (t) => mlpGpu(t.h, { gamma: t.gamma, beta: t.beta, w1: t.w1, b1: t.b1, w2: t.w2, b2: t.b2 }),
    wrt: Object.keys(mlp),
  });
  // a prefix of 3 tokens at once, then one at a time, against full causal attention
  const T = 6,
    cap = 8,
    scale = 1 / (Math.sqrt(W / heads) * 1.3);
  const layer = {
    h: host(rng, [B, T, W], 1.5),
    gamma: host(rng, [W], 0.3, 1),
    beta: host(rng, [W], 0.3),
    qkvWeight: host(rng, [3 * W, W], 0.4),
    qkvBias: host(rng, [3 * W], 0.3),
    outWeight: host(rng, [W, W], 0.3),
    outBias: host(rng, [W], 0.3),
  };
  out.push({
    name: 'KV cache: LN + qkv into the cache, then cached attention + out + residual, 3 tokens then 1 by 1',
    inputs: layer,
    reference: (t) => {
      const qkv = linear(layerNorm(t.h, t.gamma, t.beta), t.qkvWeight, t.qkvBias);
      return t.h.add(linear(attentionReference(qkv, heads, true, scale), t.outWeight, t.outBias));
    },
    fused: (t) => {
      let cache = createQkvCache(B, cap, W);
      const steps: tf.Tensor[] = [];
      for (const [pos, n] of [
        [0, 3],
        [3, 1],
        [4, 1],
        [5, 1],
      ]) {
        const h = t.h.slice([0, pos, 0], [B, n, W]);
        const next = writeQkv(cache, h, t as unknown as CacheLayer, pos);
        cache.dispose();
        cache = next;
        steps.push(attendCached(cache, h, t as unknown as CacheLayer, pos, heads, scale));
      }
      cache.dispose();
      return tf.concat(steps, 1);
    },
  });
  const [S, din, P] = [5, 3, 7];
  out.push({
    name: 'token embedding read from a token buffer',
    inputs: {
      src: host(rng, [B, S, din]),
      weight: host(rng, [W, din], 0.5),
      bias: host(rng, [W]),
      pos: host(rng, [P, W]),
      extra: host(rng, [B, W]),
    },
    reference: (t) =>
      linear(t.src.slice([0, 3, 0], [B, 1, din]), t.weight, t.bias)
        .add(t.pos.slice([5, 0], [1, W]))
        .add(t.extra.expandDims(1)),
    fused: (t) => embedToken(t.src as tf.Tensor3D, t.weight, t.bias, t.pos as tf.Tensor2D, 3, 5, t.extra),
  });
  const [N, d] = [5, 3];
  for (const clip of [0, 0.8]) {
    out.push({
      name: `affine token update${clip ? ', soft clip' : ''}`,
      inputs: {
        h: host(rng, [B, 1, W]),
        weight: host(rng, [2 * d, W], 0.3),
        bias: host(rng, [2 * d], 0.2),
        z: host(rng, [B, N, d]),
      },
      reference: (t) => {
        let o = linear(t.h, t.weight, t.bias);
        if (clip) o = tf.tanh(o.div(clip)).mul(clip);
        const [a, b] = tf.split(o, 2, 2);
        const token = t.z.slice([0, 2, 0], [B, 1, d]).mul(tf.exp(a)).add(b);
        return tf.concat([t.z.slice([0, 0, 0], [B, 2, d]), token, t.z.slice([0, 3, 0], [B, N - 3, d])], 1);
      },
      fused: (t) => {
        const tokens = freshCopy(t.z as tf.Tensor3D);
        const updated = affineToken(tokens, t.h, t.weight, t.bias, t.z as tf.Tensor3D, 2, clip);
        tokens.dispose();
        return updated;
      },
    });
  }
  // GMM draws: K components of d_g dims; the CPU sampler draws with the same numbers
  const [K, dg, draws, T_, s_] = [5, 3, 4, 1.3, 0.8];
  const head = host(rng, [B, K * (1 + 2 * dg)], 1.5);
  const noiseRow = () => Float32Array.from([rng.uniform(), ...rng.normals(dg)]);
  const noise = Float32Array.from(Array.from({ length: B * draws }, noiseRow).flatMap((r) => [...r]));
  const cpuDraws = (rows: number) => {
    const z = new Float32Array(B * rows * dg);
    for (let b = 0; b < B; b++) {
      const g = gmmFromRow(head.values, b, K, dg);
      for (let r = 0; r < rows; r++)
        sampleGmm(g, T_, s_, new ScriptedRng(noise.subarray((b * draws + r) * (1 + dg))), z, (b * rows + r) * dg);
    }
    return z;
  };
  out.push({
    name: 'GMM draws (component pick + Gaussian), several per image',
    inputs: { head, noise: { shape: [B, draws, 1 + dg], values: noise } },
    reference: () => tf.tensor3d(cpuDraws(draws), [B, draws, dg]),
    fused: (t) => drawTokens(t.head as tf.Tensor2D, t.noise, draws, { K, d: dg, T: T_, s: s_ }),
  });
  out.push({
    name: 'GMM draw of one token into a token buffer',
    inputs: {
      head,
      noise: { shape: [B * draws * (1 + dg)], values: noise },
      tokens: { shape: [B, 3, dg], values: new Float32Array(B * 3 * dg).fill(7) },
    },
    reference: () => {
      const z = new Float32Array(B * 3 * dg).fill(7);
      for (let b = 0; b < B; b++)
        sampleGmm(
          gmmFromRow(head.values, b, K, dg),
          T_,
          s_,
          new ScriptedRng(noise.subarray(b * (1 + dg))),
          z,
          (b * 3 + 1) * dg,
        );
      return tf.tensor3d(z, [B, 3, dg]);
    },
    fused: (t) => {
      const tokens = freshCopy(t.tokens as tf.Tensor3D);
      const drawn = drawTokenInto(tokens, t.head as tf.Tensor2D, t.noise as tf.Tensor1D, 0, 1, {
        K,
        d: dg,
        T: T_,
        s: s_,
      });
      tokens.dispose();
      return drawn;
    },
  });
  out.push({
    name: 'latent assembled from AR-order informative tokens and redundant ones',
    inputs: { info: host(rng, [B, N, 2]), red: host(rng, [B, N, 3]) },
    reference: (t) => tf.concat([tf.reverse(t.info, 1), t.red], 2),
    fused: (t) => assembleLatent(t.info as tf.Tensor3D, t.red as tf.Tensor3D, true),
  });
  return out;
}

async function values(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

/** The output and the gradients of Σ y·R with respect to `wrt`, all downloaded. */
async function evaluate(c: Check, fn: Check['fused'], weights: Float32Array): Promise<Record<string, Float32Array>> {
  const t: Record<string, tf.Tensor> = {};
  for (const [k, h] of Object.entries(c.inputs)) t[k] = tf.tensor(h.values, h.shape);
  const y = fn(t);
  const result: Record<string, Float32Array> = { y: await values(y) };
  if (c.wrt) {
    const wrt = c.wrt;
    const grads = tf.grads((...xs: tf.Tensor[]) => {
      const named = { ...t };
      wrt.forEach((k, i) => (named[k] = xs[i]));
      return fn(named).mul(tf.tensor(weights, y.shape)).sum();
    })(wrt.map((k) => t[k]));
    for (let i = 0; i < wrt.length; i++) result[`d${wrt[i]}`] = await values(grads[i]);
    tf.dispose(grads);
  }
  tf.dispose([y, ...Object.values(t)]);
  return result;
}

function compare(a: Float32Array, b: Float32Array): Comparison {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff: Number.isNaN(diff) || a.length !== b.length ? Infinity : diff, scale };
}

/** Every check's comparisons by `check: output`; leaves the cpu backend active. `host`: Node's (Dawn), else the page's. */
export async function runFusedChecks(host?: BackendHost): Promise<Record<string, Comparison>> {
  const list = checks();
  const rng = new Rng(5);
  await selectBackend('cpu', { host });
  // R for Σ y·R: one number per output value (sized from the reference's output)
  const weightsFor = list.map((c) => {
    const t: Record<string, tf.Tensor> = {};
    for (const [k, h] of Object.entries(c.inputs)) t[k] = tf.tensor(h.values, h.shape);
    const y = c.reference(t);
    const n = y.size;
    tf.dispose([y, ...Object.values(t)]);
    return rng.normals(n);
  });
  await selectBackend('webgpu', { host, fallback: false });
  const gpu = [];
  for (let i = 0; i < list.length; i++) gpu.push(await evaluate(list[i], list[i].fused, weightsFor[i]));
  await selectBackend('cpu', { host });
  const out: Record<string, Comparison> = {};
  for (let i = 0; i < list.length; i++) {
    const cpu = await evaluate(list[i], list[i].reference, weightsFor[i]);
    for (const k of Object.keys(cpu)) out[`${list[i].name}: ${k}`] = compare(gpu[i][k], cpu[k]);
  }
  return out;
}
