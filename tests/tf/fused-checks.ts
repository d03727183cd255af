// Each fused WebGPU kernel against the unfused composition it replaces: the composition on the
// cpu backend, the kernel on webgpu (Dawn in Node, or Chromium's adapter), the same inputs made
// from the same Float32Arrays on each. Values and gradients (of Σ y·R for a fixed random R).
// Used by fused.test.ts (through fused-webgpu.script.ts) and tests/browser/fused.browser.test.ts.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/lib/tf/backend';
import { gelu, layerNorm, linear } from '../../src/lib/nn/layers';
import { causalBias } from '../../src/lib/nn/attention';
import { layerNormGpu } from '../../src/lib/tf/webgpu/layer-norm';
import { linearGpu } from '../../src/lib/tf/webgpu/linear-grad';
import type { Pre } from '../../src/lib/tf/webgpu/linear';
import { attentionGpu } from '../../src/lib/tf/webgpu/attention';
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
  const W = W3 / 3, hd = W / heads;
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
  return y.reshape([-1, R, N]).add(t.residual.reshape([R, N])).reshape(y.shape);
}

function checks(): Check[] {
  const rng = new Rng(11);
  const out: Check[] = [];
  const ln = (W: number, rows: number[]) => ({ x: host(rng, [...rows, W], 2, 0.5), gamma: host(rng, [W], 0.3, 1), beta: host(rng, [W], 0.3) });
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
      fused: (t) => linearGpu(t.x, t.weight, t.bias, { pre: v.pre, post: v.post, gamma: t.gamma, beta: t.beta, residual: t.residual }),
      wrt: Object.keys(inputs),
    });
  }
  for (const [causal, temp] of [[true, 1], [false, 1.7]] as const) {
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
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff: Number.isNaN(diff) || a.length !== b.length ? Infinity : diff, scale };
}

/** Every check's comparisons by `check: output`; leaves the cpu backend active. */
export async function runFusedChecks(): Promise<Record<string, Comparison>> {
  const list = checks();
  const rng = new Rng(5);
  const weightsFor = list.map((c) => {
    const shape = c.inputs.x?.shape ?? c.inputs.qkv.shape;
    const n = c.name.startsWith('attention') ? shape[0] * shape[1] * (shape[2] / 3) : c.name.startsWith('layerNorm') ? shape.reduce((a, b) => a * b, 1) : (c.inputs.x.values.length / shape[shape.length - 1]) * c.inputs.weight.shape[0];
    return rng.normals(n);
  });
  await selectBackend('webgpu', { fallback: false });
  const gpu = [];
  for (let i = 0; i < list.length; i++) gpu.push(await evaluate(list[i], list[i].fused, weightsFor[i]));
  await selectBackend('cpu');
  const out: Record<string, Comparison> = {};
  for (let i = 0; i < list.length; i++) {
    const cpu = await evaluate(list[i], list[i].reference, weightsFor[i]);
    for (const k of Object.keys(cpu)) out[`${list[i].name}: ${k}`] = compare(gpu[i][k], cpu[k]);
  }
  return out;
}
