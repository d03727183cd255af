// Multi-head attention over a packed projection qkv [B, T, 3W] (rows [Q | K | V], heads
// contiguous: docs/model.md, "Transformer layers") in one dispatch: a thread per (image, head,
// query) runs the softmax online over the keys it may see, so the [T, T] logits never exist: o_i = Σ_j softmax_j(s·q_i·k_j) v_j, s = 1/(√hd·temp).
// Gradient in two more: per query L_i = log Σ_j e^{s q·k} and D_i = do_i·o_i, then per position t
// dq_t = s·Σ_j P_tj (do_t·v_j − D_t) k_j,  dk_t = s·Σ_i P_it (do_i·v_t − D_i) q_i,  dv_t = Σ_i P_it do_i.
import * as tf from '@tensorflow/tfjs';
import { groups, program, registerGpuGradient, registerGpuKernel, run, runKernel, type GpuBackend } from './program';

export interface AttentionShape {
  heads: number;
  causal: boolean;
  /** s = 1/(√head_dim · temperature) */
  scale: number;
}

const THREADS = 64;
const UNIFORMS = 'total : i32, seq : i32, heads : i32, width : i32, scale : f32,';

function dims(qkv: tf.TensorInfo, heads: number) {
  const [B, T, W3] = qkv.shape;
  const W = W3 / 3;
  return { B, T, W, hd: W / heads, total: B * heads * T };
}

function uniformsOf(d: ReturnType<typeof dims>, heads: number, scale: number) {
  return [
    { type: 'int32' as const, data: [d.total] },
    { type: 'int32' as const, data: [d.T] },
    { type: 'int32' as const, data: [heads] },
    { type: 'int32' as const, data: [d.W] },
    { type: 'float32' as const, data: [scale] },
  ];
}

/** WGSL: which (b, h, i) a thread serves, and where row i of Q, K, V of head h starts in qkv. */
const THREAD_COORDS = `
    let i = index % uniforms.seq;
    let bh = index / uniforms.seq;
    let h = bh % uniforms.heads;
    let b = bh / uniforms.heads;
    let stride = 3 * uniforms.width;`;
const rowBase = (row: string) => `(b * uniforms.seq + ${row}) * stride + h * HD`;

/** WGSL: the keys query i attends to, [first, last]. */
const seen = (causal: boolean, row: string) => (causal ? `0, ${row}` : `0, uniforms.seq - 1`);

const ATTENTION = 'FarmerAttention';
const ATTENTION_STATS = 'FarmerAttentionStats';
const ATTENTION_GRAD = 'FarmerAttentionGrad';

registerGpuKernel(ATTENTION, ({ inputs, backend, attrs }) => {
  const qkv = inputs.qkv as tf.TensorInfo;
  const heads = attrs.heads as number,
    causal = attrs.causal as boolean;
  const d = dims(qkv, heads);
  const [first, last] = seen(causal, 'i').split(', ');
  const prog = program({
    key: `attention_${d.hd}_${+causal}`,
    inputs: ['qkv'],
    outputShape: [d.B, d.T, d.W],
    workgroups: groups(d.total, THREADS),
    threads: THREADS,
    uniforms: UNIFORMS,
    code: `
  const HD = ${d.hd};
  fn main(index : i32) {
    if (index >= uniforms.total) { return; }
    ${THREAD_COORDS}
    let qBase = ${rowBase('i')};
    var q : array<f32, HD>;
    var acc : array<f32, HD>;
    for (var c = 0; c < HD; c = c + 1) { q[c] = qkv[qBase + c] * uniforms.scale; acc[c] = 0.0; }
    var m = -3.0e38;
    var l = 0.0;
    for (var j = ${first}; j <= ${last}; j = j + 1) {
      let kBase = ${rowBase('j')} + uniforms.width;
      var s = 0.0;
      for (var c = 0; c < HD; c = c + 1) { s = s + q[c] * qkv[kBase + c]; }
      let mNew = max(m, s);
      let corr = exp(m - mNew);
      let p = exp(s - mNew);
      l = l * corr + p;
      for (var c = 0; c < HD; c = c + 1) { acc[c] = acc[c] * corr + p * qkv[kBase + uniforms.width + c]; }
      m = mNew;
    }
    let oBase = (b * uniforms.seq + i) * uniforms.width + h * HD;
    for (var c = 0; c < HD; c = c + 1) { result[oBase + c] = acc[c] / l; }
  }`,
  });
  return run(backend as GpuBackend, prog, [qkv], uniformsOf(d, heads, attrs.scale as number));
});

/** Per (b, h, i): (L_i, D_i) → [B, H, T, 2]. */
registerGpuKernel(ATTENTION_STATS, ({ inputs, backend, attrs }) => {
  const { qkv, o, dout } = inputs as Record<string, tf.TensorInfo>;
  const heads = attrs.heads as number,
    causal = attrs.causal as boolean;
  const d = dims(qkv, heads);
  const [first, last] = seen(causal, 'i').split(', ');
  const prog = program({
    key: `attention_stats_${d.hd}_${+causal}`,
    inputs: ['qkv', 'o', 'dout'],
    outputShape: [d.B, heads, d.T, 2],
    workgroups: groups(d.total, THREADS),
    threads: THREADS,
    uniforms: UNIFORMS,
    code: `
  const HD = ${d.hd};
  fn main(index : i32) {
    if (index >= uniforms.total) { return; }
    ${THREAD_COORDS}
    let qBase = ${rowBase('i')};
    var m = -3.0e38;
    var l = 0.0;
    for (var j = ${first}; j <= ${last}; j = j + 1) {
      let kBase = ${rowBase('j')} + uniforms.width;
      var s = 0.0;
      for (var c = 0; c < HD; c = c + 1) { s = s + qkv[qBase + c] * qkv[kBase + c]; }
      s = s * uniforms.scale;
      let mNew = max(m, s);
      l = l * exp(m - mNew) + exp(s - mNew);
      m = mNew;
    }
    let oBase = (b * uniforms.seq + i) * uniforms.width + h * HD;
    var dd = 0.0;
    for (var c = 0; c < HD; c = c + 1) { dd = dd + o[oBase + c] * dout[oBase + c]; }
    result[index * 2] = m + log(l);
    result[index * 2 + 1] = dd;
  }`,
  });
  return run(backend as GpuBackend, prog, [qkv, o, dout], uniformsOf(d, heads, attrs.scale as number));
});

/** Per (b, h, t): dq_t, dk_t, dv_t into dqkv [B, T, 3W]. */
registerGpuKernel(ATTENTION_GRAD, ({ inputs, backend, attrs }) => {
  const { qkv, dout, stats } = inputs as Record<string, tf.TensorInfo>;
  const heads = attrs.heads as number,
    causal = attrs.causal as boolean;
  const d = dims(qkv, heads);
  const prog = program({
    key: `attention_grad_${d.hd}_${+causal}`,
    inputs: ['qkv', 'dout', 'stats'],
    outputShape: qkv.shape,
    workgroups: groups(d.total, THREADS),
    threads: THREADS,
    uniforms: UNIFORMS,
    code: `
  const HD = ${d.hd};
  fn statIndex(b : i32, h : i32, row : i32) -> i32 { return ((b * uniforms.heads + h) * uniforms.seq + row) * 2; }
  fn main(index : i32) {
    if (index >= uniforms.total) { return; }
    ${THREAD_COORDS}
    let t = i;
    let tBase = ${rowBase('t')};
    let oT = (b * uniforms.seq + t) * uniforms.width + h * HD;
    var dq : array<f32, HD>;
    var dk : array<f32, HD>;
    var dv : array<f32, HD>;
    for (var c = 0; c < HD; c = c + 1) { dq[c] = 0.0; dk[c] = 0.0; dv[c] = 0.0; }
    let lt = stats[statIndex(b, h, t)];
    let dt = stats[statIndex(b, h, t) + 1];
    // t as the query: keys j it sees
    for (var j = ${seen(causal, 't').replace(', ', '; j <= ')}; j = j + 1) {
      let jBase = ${rowBase('j')};
      var s = 0.0;
      var dov = 0.0;
      for (var c = 0; c < HD; c = c + 1) {
        s = s + qkv[tBase + c] * qkv[jBase + uniforms.width + c];
        dov = dov + dout[oT + c] * qkv[jBase + 2 * uniforms.width + c];
      }
      let p = exp(s * uniforms.scale - lt);
      let ds = p * (dov - dt) * uniforms.scale;
      for (var c = 0; c < HD; c = c + 1) { dq[c] = dq[c] + ds * qkv[jBase + uniforms.width + c]; }
    }
    // t as the key: queries i that see it
    for (var q = ${causal ? 't' : '0'}; q < uniforms.seq; q = q + 1) {
      let qBase = ${rowBase('q')};
      let oQ = (b * uniforms.seq + q) * uniforms.width + h * HD;
      var s = 0.0;
      var dov = 0.0;
      for (var c = 0; c < HD; c = c + 1) {
        s = s + qkv[qBase + c] * qkv[tBase + uniforms.width + c];
        dov = dov + dout[oQ + c] * qkv[tBase + 2 * uniforms.width + c];
      }
      let p = exp(s * uniforms.scale - stats[statIndex(b, h, q)]);
      let ds = p * (dov - stats[statIndex(b, h, q) + 1]) * uniforms.scale;
      for (var c = 0; c < HD; c = c + 1) {
        dk[c] = dk[c] + ds * qkv[qBase + c];
        dv[c] = dv[c] + p * dout[oQ + c];
      }
    }
    for (var c = 0; c < HD; c = c + 1) {
      result[tBase + c] = dq[c];
      result[tBase + uniforms.width + c] = dk[c];
      result[tBase + 2 * uniforms.width + c] = dv[c];
    }
  }`,
  });
  return run(backend as GpuBackend, prog, [qkv, dout, stats], uniformsOf(d, heads, attrs.scale as number));
});

registerGpuGradient({
  kernelName: ATTENTION,
  inputsToSave: ['qkv'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [qkv, o] = saved;
    return {
      qkv: () => {
        const stats = runKernel(ATTENTION_STATS, { qkv, o, dout: dy as tf.Tensor }, attrs);
        return runKernel(ATTENTION_GRAD, { qkv, dout: dy as tf.Tensor, stats }, attrs);
      },
    };
  },
});

/** softmax(s·QKᵀ (+ causal mask)) V for every head, from qkv [B, T, 3W] → [B, T, W], one dispatch. */
export function attentionGpu(qkv: tf.Tensor3D, o: AttentionShape): tf.Tensor3D {
  const W = qkv.shape[2] / 3;
  if (!Number.isInteger(W) || W % o.heads !== 0)
    throw new Error(`attentionGpu: qkv [${qkv.shape}] does not split into 3 × ${o.heads} heads`);
  return runKernel<tf.Tensor3D>(ATTENTION, { qkv }, { heads: o.heads, causal: o.causal, scale: o.scale });
}
