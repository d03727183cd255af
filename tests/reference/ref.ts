// Independent float64 reference of the FARMER forward pass, written from the specification only (its math is in docs/model.md)
// (§2 patchify, §3 AF forward, §4 priors, §1 likelihood units). Plain loops, no tfjs, no engine imports.
// Slow on purpose: every formula is spelled out the way the spec states it.

/** The config JSON (only the fields the forward pass reads). */
export interface RefConfig {
  image: { height: number; width: number; channels: number };
  patch_size: number;
  num_classes: number;
  af: {
    blocks: number;
    layers_per_block: number;
    width: number;
    head_dim: number;
    mlp_ratio: number;
    class_conditional: boolean;
    soft_clip: number;
  };
  prior:
    | { kind: 'gaussian' }
    | {
        kind: 'farmer';
        informative_dims: number;
        cond_repeat: number;
        final_permute: boolean;
        mixtures_informative: number;
        mixtures_redundant: number;
        ar: { layers: number; width: number; head_dim: number; mlp_ratio: number };
      };
  dequantization: { kind: 'uniform' } | { kind: string; [k: string]: unknown };
  label_dropout: number;
}

/** A tensor in PyTorch row-major layout, float64. */
export interface RefTensor {
  shape: number[];
  data: Float64Array;
}
export type RefParams = Map<string, RefTensor>;

/** Token count N, token dim d, pixel count (N·d). */
export function refDims(cfg: RefConfig) {
  const p = cfg.patch_size;
  const N = (cfg.image.height / p) * (cfg.image.width / p);
  const d = cfg.image.channels * p * p;
  return { N, d, pixels: N * d };
}

/** Tensor names and shapes written out from the checkpoint table of the specification, independently of paramShapes. */
export function refParamShapes(cfg: RefConfig): Map<string, number[]> {
  const { N, d } = refDims(cfg);
  const out = new Map<string, number[]>();
  const layers = (P: string, L: number, W: number, m: number) => {
    for (let j = 0; j < L; j++) {
      const q = `${P}.layers.${j}`;
      out.set(`${q}.attn_norm.weight`, [W]);
      out.set(`${q}.attn_norm.bias`, [W]);
      out.set(`${q}.attn.qkv.weight`, [3 * W, W]);
      out.set(`${q}.attn.qkv.bias`, [3 * W]);
      out.set(`${q}.attn.out.weight`, [W, W]);
      out.set(`${q}.attn.out.bias`, [W]);
      out.set(`${q}.mlp_norm.weight`, [W]);
      out.set(`${q}.mlp_norm.bias`, [W]);
      out.set(`${q}.mlp.fc1.weight`, [m * W, W]);
      out.set(`${q}.mlp.fc1.bias`, [m * W]);
      out.set(`${q}.mlp.fc2.weight`, [W, m * W]);
      out.set(`${q}.mlp.fc2.bias`, [W]);
    }
  };
  const W = cfg.af.width;
  for (let k = 0; k < cfg.af.blocks; k++) {
    const P = `af.blocks.${k}`;
    out.set(`${P}.proj_in.weight`, [W, d]);
    out.set(`${P}.proj_in.bias`, [W]);
    out.set(`${P}.pos_embed`, [N, W]);
    if (cfg.af.class_conditional) out.set(`${P}.class_embed`, [cfg.num_classes, W]);
    layers(P, cfg.af.layers_per_block, W, cfg.af.mlp_ratio);
    out.set(`${P}.proj_out.weight`, [2 * d, W]);
    out.set(`${P}.proj_out.bias`, [2 * d]);
  }
  if (cfg.prior.kind === 'farmer') {
    const pr = cfg.prior;
    const A = pr.ar.width;
    const dI = pr.informative_dims;
    const dR = d - dI;
    out.set('ar.cond_embed', [cfg.num_classes + 1, A]);
    out.set('ar.cond_pos', [pr.cond_repeat, A]);
    out.set('ar.proj_in.weight', [A, dI]);
    out.set('ar.proj_in.bias', [A]);
    out.set('ar.pos_embed', [N, A]);
    layers('ar', pr.ar.layers, A, pr.ar.mlp_ratio);
    out.set('ar.norm.weight', [A]);
    out.set('ar.norm.bias', [A]);
    out.set('ar.head_info.weight', [pr.mixtures_informative * (1 + 2 * dI), A]);
    out.set('ar.head_info.bias', [pr.mixtures_informative * (1 + 2 * dI)]);
    out.set('ar.head_red.weight', [pr.mixtures_redundant * (1 + 2 * dR), A]);
    out.set('ar.head_red.bias', [pr.mixtures_redundant * (1 + 2 * dR)]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scalar helpers

/** erf in float64: Maclaurin series for |x| < 3, continued fraction of erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = x; // x^(2n+1)/n! with sign
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 27) return Math.sign(x);
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  let f = ax;
  for (let n = 120; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function gelu(u: number): number {
  return 0.5 * u * (1 + erf(u / Math.SQRT2));
}

/** JetFormer's square-plus, stable for negative r (docs/model.md, "GMM heads"). */
export function squarePlus(r: number): number {
  const s = Math.sqrt(r * r + 4);
  return r >= 0 ? (r + s) / 2 : 2 / (s - r);
}

const LOG_2PI = Math.log(2 * Math.PI);

// ---------------------------------------------------------------------------------------------
// Vector helpers (rows are plain number arrays of float64)

type Mat = number[][]; // [rows][cols]

function get(params: RefParams, name: string): RefTensor {
  const t = params.get(name);
  if (!t) throw new Error(`reference: missing tensor ${name}`);
  return t;
}

/** y = x·Wᵀ + b with PyTorch W [out, in]. */
function linear(x: Mat, W: RefTensor, b: RefTensor): Mat {
  const [out, inn] = W.shape;
  return x.map((row) => {
    if (row.length !== inn) throw new Error(`reference: linear expects ${inn} inputs, got ${row.length}`);
    const y = new Array<number>(out);
    for (let o = 0; o < out; o++) {
      let s = b.data[o];
      for (let i = 0; i < inn; i++) s += W.data[o * inn + i] * row[i];
      y[o] = s;
    }
    return y;
  });
}

/** LayerNorm over the width, eps 1e-5, biased variance. */
function layerNorm(x: Mat, w: RefTensor, b: RefTensor): Mat {
  return x.map((row) => {
    const n = row.length;
    let mean = 0;
    for (const v of row) mean += v;
    mean /= n;
    let varr = 0;
    for (const v of row) varr += (v - mean) * (v - mean);
    varr /= n;
    const inv = 1 / Math.sqrt(varr + 1e-5);
    return row.map((v, i) => (v - mean) * inv * w.data[i] + b.data[i]);
  });
}

/** Causal multi-head self-attention: query i sees keys j ≤ i (docs/model.md, "Transformer layers"). */
function causalAttention(x: Mat, P: string, params: RefParams, W: number, headDim: number): Mat {
  const T = x.length;
  const qkv = linear(x, get(params, `${P}.attn.qkv.weight`), get(params, `${P}.attn.qkv.bias`));
  const H = W / headDim;
  const heads: Mat = Array.from({ length: T }, () => new Array<number>(W).fill(0));
  const scale = 1 / Math.sqrt(headDim);
  for (let h = 0; h < H; h++) {
    const q = (i: number, e: number) => qkv[i][h * headDim + e];
    const k = (j: number, e: number) => qkv[j][W + h * headDim + e];
    const v = (j: number, e: number) => qkv[j][2 * W + h * headDim + e];
    for (let i = 0; i < T; i++) {
      const logits: number[] = [];
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let e = 0; e < headDim; e++) s += q(i, e) * k(j, e);
        logits.push(s * scale);
      }
      const mx = Math.max(...logits);
      const ws = logits.map((l) => Math.exp(l - mx));
      const Z = ws.reduce((a, c) => a + c, 0);
      for (let e = 0; e < headDim; e++) {
        let s = 0;
        for (let j = 0; j <= i; j++) s += (ws[j] / Z) * v(j, e);
        heads[i][h * headDim + e] = s;
      }
    }
  }
  return linear(heads, get(params, `${P}.attn.out.weight`), get(params, `${P}.attn.out.bias`));
}

/** Pre-LN causal transformer layers {P}.layers.{j}: h += Attn(LN1(h)); h += MLP(LN2(h)). */
function transformer(h: Mat, P: string, params: RefParams, L: number, W: number, headDim: number): Mat {
  for (let j = 0; j < L; j++) {
    const q = `${P}.layers.${j}`;
    const a = causalAttention(
      layerNorm(h, get(params, `${q}.attn_norm.weight`), get(params, `${q}.attn_norm.bias`)),
      q,
      params,
      W,
      headDim,
    );
    h = h.map((row, i) => row.map((v, e) => v + a[i][e]));
    const n2 = layerNorm(h, get(params, `${q}.mlp_norm.weight`), get(params, `${q}.mlp_norm.bias`));
    const f1 = linear(n2, get(params, `${q}.mlp.fc1.weight`), get(params, `${q}.mlp.fc1.bias`)).map((r) => r.map(gelu));
    const f2 = linear(f1, get(params, `${q}.mlp.fc2.weight`), get(params, `${q}.mlp.fc2.bias`));
    h = h.map((row, i) => row.map((v, e) => v + f2[i][e]));
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// §2 patchify

/** x flat [B,H,W,C] → per image [N][d], raster tokens, channel-major inside a token. */
export function patchify(cfg: RefConfig, x: ArrayLike<number>, B: number): Mat[] {
  const { height: H, width: Wd, channels: C } = cfg.image;
  const p = cfg.patch_size;
  const { N, d } = refDims(cfg);
  const out: Mat[] = [];
  for (let b = 0; b < B; b++) {
    const img: Mat = Array.from({ length: N }, () => new Array<number>(d).fill(NaN));
    for (let hh = 0; hh < H; hh++)
      for (let ww = 0; ww < Wd; ww++)
        for (let c = 0; c < C; c++) {
          const n = Math.floor(hh / p) * (Wd / p) + Math.floor(ww / p);
          const r = hh % p;
          const s = ww % p;
          img[n][c * p * p + r * p + s] = x[((b * H + hh) * Wd + ww) * C + c];
        }
    out.push(img);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// §3 AF

/** π_k as an index map: permuted position i holds original token perm[i]. Identity for even k, flip for odd k. */
export function blockPerm(k: number, N: number): number[] {
  return Array.from({ length: N }, (_, i) => (k % 2 === 0 ? i : N - 1 - i));
}

/** AF class embedding e_y: class_embed[y]; null label (−1) = mean of the rows. */
function classEmbed(params: RefParams, P: string, y: number, numClasses: number, W: number): number[] {
  const t = get(params, `${P}.class_embed`);
  const e = new Array<number>(W).fill(0);
  if (y >= 0) {
    for (let w = 0; w < W; w++) e[w] = t.data[y * W + w];
  } else {
    for (let c = 0; c < numClasses; c++) for (let w = 0; w < W; w++) e[w] += t.data[c * W + w];
    for (let w = 0; w < W; w++) e[w] /= numClasses;
  }
  return e;
}

export interface BlockOut {
  z: Mat; // [N][d] original token order
  logdet: number;
  logdetPerToken: number[]; // raster (original) order
  a: Mat; // permuted order
  b: Mat; // permuted order
}

/** The (a, b) of block k in permuted order for permuted input xt, with the shift (docs/model.md, "AF block forward"). */
function blockAffine(cfg: RefConfig, params: RefParams, k: number, xt: Mat, y: number): { a: Mat; b: Mat } {
  const { N, d } = refDims(cfg);
  const P = `af.blocks.${k}`;
  const W = cfg.af.width;
  const perm = blockPerm(k, N);
  const pos = get(params, `${P}.pos_embed`);
  let h = linear(xt, get(params, `${P}.proj_in.weight`), get(params, `${P}.proj_in.bias`));
  const ey = cfg.af.class_conditional ? classEmbed(params, P, y, cfg.num_classes, W) : null;
  h = h.map((row, i) => row.map((v, w) => v + pos.data[perm[i] * W + w] + (ey ? ey[w] : 0)));
  h = transformer(h, P, params, cfg.af.layers_per_block, W, cfg.af.head_dim);
  let o = linear(h, get(params, `${P}.proj_out.weight`), get(params, `${P}.proj_out.bias`));
  const c = cfg.af.soft_clip;
  if (c > 0) o = o.map((row) => row.map((v) => c * Math.tanh(v / c)));
  const a: Mat = [];
  const b: Mat = [];
  for (let i = 0; i < N; i++) {
    const src = i === 0 ? null : o[i - 1];
    a.push(Array.from({ length: d }, (_, j) => (src ? src[j] : 0)));
    b.push(Array.from({ length: d }, (_, j) => (src ? src[d + j] : 0)));
  }
  return { a, b };
}

export function afBlockForward(cfg: RefConfig, params: RefParams, k: number, x: Mat, y: number): BlockOut {
  const { N, d } = refDims(cfg);
  const perm = blockPerm(k, N);
  const xt = perm.map((t) => x[t].slice());
  const { a, b } = blockAffine(cfg, params, k, xt, y);
  const zt = xt.map((row, i) => row.map((v, j) => (v - b[i][j]) * Math.exp(-a[i][j])));
  const z: Mat = new Array(N);
  const logdetPerToken = new Array<number>(N);
  let logdet = 0;
  for (let i = 0; i < N; i++) {
    z[perm[i]] = zt[i];
    let s = 0;
    for (let j = 0; j < d; j++) s -= a[i][j];
    logdetPerToken[perm[i]] = s;
    logdet += s;
  }
  return { z, logdet, logdetPerToken, a, b };
}

/** Sequential inverse of block k, used only to validate the reference itself. */
export function afBlockInverse(cfg: RefConfig, params: RefParams, k: number, z: Mat, y: number): Mat {
  const { N, d } = refDims(cfg);
  const perm = blockPerm(k, N);
  const zt = perm.map((t) => z[t]);
  const xt: Mat = zt.map((r) => r.map(() => 0));
  xt[0] = zt[0].slice();
  for (let i = 0; i + 1 < N; i++) {
    // Feeding the full (partially filled) sequence is equivalent: token i+1 depends on tokens ≤ i only.
    const { a, b } = blockAffine(cfg, params, k, xt, y);
    xt[i + 1] = zt[i + 1].map((v, j) => v * Math.exp(a[i + 1][j]) + b[i + 1][j]);
  }
  const x: Mat = new Array(N);
  for (let i = 0; i < N; i++) x[perm[i]] = xt[i];
  return x;
}

// ---------------------------------------------------------------------------------------------
// §4 priors

/** log G(z) for one GMM head output row laid out [logits K | means K·dg | raw K·dg]. */
export function gmmLogProb(out: ArrayLike<number>, K: number, dg: number, z: ArrayLike<number>): number {
  if (out.length !== K * (1 + 2 * dg)) throw new Error('reference: GMM head size');
  let mx = -Infinity;
  for (let k = 0; k < K; k++) mx = Math.max(mx, out[k]);
  let se = 0;
  for (let k = 0; k < K; k++) se += Math.exp(out[k] - mx);
  const lse = mx + Math.log(se);
  const terms: number[] = [];
  for (let k = 0; k < K; k++) {
    let t = out[k] - lse;
    for (let j = 0; j < dg; j++) {
      const mu = out[K + k * dg + j];
      const sigma = Math.max(squarePlus(out[K + K * dg + k * dg + j]), 1e-6);
      const u = (z[j] - mu) / sigma;
      t += -0.5 * u * u - Math.log(sigma) - 0.5 * LOG_2PI;
    }
    terms.push(t);
  }
  const m = Math.max(...terms);
  return m + Math.log(terms.reduce((acc, t) => acc + Math.exp(t - m), 0));
}

/** The AR token order ρ (index map: AR position i reads token rho[i]). */
export function arOrder(cfg: RefConfig, N: number): number[] {
  const pr = cfg.prior;
  const flip = pr.kind === 'farmer' && pr.final_permute && cfg.af.blocks % 2 === 1;
  return Array.from({ length: N }, (_, i) => (flip ? N - 1 - i : i));
}

export function priorLogProb(cfg: RefConfig, params: RefParams, z: Mat, y: number): number {
  const { N, d } = refDims(cfg);
  const pr = cfg.prior;
  if (pr.kind === 'gaussian') {
    let s = 0;
    for (const row of z) for (const v of row) s += -0.5 * v * v - 0.5 * LOG_2PI;
    return s;
  }
  const dI = pr.informative_dims;
  const dR = d - dI;
  const A = pr.ar.width;
  const M = pr.cond_repeat;
  const rho = arOrder(cfg, N);
  const ce = get(params, 'ar.cond_embed');
  const cp = get(params, 'ar.cond_pos');
  const pe = get(params, 'ar.pos_embed');
  const row = y >= 0 ? y : cfg.num_classes; // null label = last row (the only row when num_classes = 0)
  const seq: Mat = [];
  for (let m = 0; m < M; m++) seq.push(Array.from({ length: A }, (_, w) => ce.data[row * A + w] + cp.data[m * A + w]));
  const zI = rho.map((t) => z[t].slice(0, dI));
  const u = linear(zI, get(params, 'ar.proj_in.weight'), get(params, 'ar.proj_in.bias'));
  for (let i = 0; i < N; i++) seq.push(u[i].map((v, w) => v + pe.data[rho[i] * A + w]));
  let h = transformer(seq, 'ar', params, pr.ar.layers, A, pr.ar.head_dim);
  h = layerNorm(h, get(params, 'ar.norm.weight'), get(params, 'ar.norm.bias'));
  const hi = linear(h, get(params, 'ar.head_info.weight'), get(params, 'ar.head_info.bias'));
  const hr = linear([h[M + N - 1]], get(params, 'ar.head_red.weight'), get(params, 'ar.head_red.bias'))[0];
  let s = 0;
  for (let i = 0; i < N; i++) s += gmmLogProb(hi[M - 1 + i], pr.mixtures_informative, dI, zI[i]);
  for (let t = 0; t < N; t++) s += gmmLogProb(hr, pr.mixtures_redundant, dR, z[t].slice(dI));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Whole forward pass

export interface RefForward {
  latents: Mat[]; // Z^1 … Z^n, each [N][d]
  z: Mat;
  logdetPerBlock: number[];
  logdetPerToken: number[][]; // [n][N] raster order
  logdet: number;
  logPrior: number;
  logPx: number;
  nllPerDim: number;
}

/** One image's forward pass; y = −1 is the null label. */
export function refForwardImage(cfg: RefConfig, params: RefParams, x0: Mat, y: number): RefForward {
  const { pixels } = refDims(cfg);
  let x = x0;
  const latents: Mat[] = [];
  const perBlock: number[] = [];
  const perToken: number[][] = [];
  for (let k = 0; k < cfg.af.blocks; k++) {
    const o = afBlockForward(cfg, params, k, x, y);
    x = o.z;
    latents.push(x);
    perBlock.push(o.logdet);
    perToken.push(o.logdetPerToken);
  }
  const logdet = perBlock.reduce((a, b) => a + b, 0);
  const logPrior = priorLogProb(cfg, params, x, y);
  const logPx = logPrior + logdet;
  return {
    latents,
    z: x,
    logdetPerBlock: perBlock,
    logdetPerToken: perToken,
    logdet,
    logPrior,
    logPx,
    nllPerDim: -logPx / pixels,
  };
}

export function refForward(
  cfg: RefConfig,
  params: RefParams,
  x: ArrayLike<number>,
  B: number,
  labels: ArrayLike<number> | null,
): RefForward[] {
  const imgs = patchify(cfg, x, B);
  return imgs.map((img, b) => refForwardImage(cfg, params, img, labels ? labels[b] : -1));
}

export function refBitsPerDim(L: number): number {
  return (L + Math.log(128)) / Math.LN2;
}
