// The engine's forward pass (analyzeForward) against the independent float64 reference of
// tests/reference/ref.ts, on random checkpoints of every configuration kind of the spec.
// The engine is used as a black box through parseConfig / paramShapes / initParams / makeModel /
// analyzeForward / bitsPerDim only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { parseConfig } from '../../src/lib/farmer/config';
import { initParams, paramShapes } from '../../src/lib/farmer/params';
import { analyzeForward, bitsPerDim, disposeAnalysis, makeModel } from '../../src/lib/farmer/model';
import { refBitsPerDim, refDims, refForward, type RefConfig, type RefForward, type RefParams } from './ref';
import { describeMismatch, randomImages, randomRefParams, worst, type Mismatch, type ParamScales } from './util';

// ---------------------------------------------------------------------------------------------
// Configurations

interface CaseOpts {
  size?: number;
  channels?: number;
  patch?: number;
  numClasses?: number;
  blocks?: number;
  afLayers?: number;
  headDim?: number;
  classCond?: boolean;
  softClip?: number;
  prior?: 'gaussian' | 'farmer';
  dI?: number;
  M?: number;
  finalPermute?: boolean;
  K?: [number, number];
  arLayers?: number;
}

function config(o: CaseOpts): RefConfig {
  return {
    image: { height: o.size ?? 4, width: o.size ?? 4, channels: o.channels ?? 1 },
    patch_size: o.patch ?? 2,
    num_classes: o.numClasses ?? 0,
    af: {
      blocks: o.blocks ?? 2,
      layers_per_block: o.afLayers ?? 1,
      width: 16,
      head_dim: o.headDim ?? 8,
      mlp_ratio: 2,
      class_conditional: o.classCond ?? false,
      soft_clip: o.softClip ?? 0,
    },
    prior:
      (o.prior ?? 'farmer') === 'gaussian'
        ? { kind: 'gaussian' }
        : {
            kind: 'farmer',
            informative_dims: o.dI ?? 2,
            cond_repeat: o.M ?? 2,
            final_permute: o.finalPermute ?? true,
            mixtures_informative: o.K?.[0] ?? 3,
            mixtures_redundant: o.K?.[1] ?? 2,
            ar: { layers: o.arLayers ?? 1, width: 16, head_dim: o.headDim ?? 8, mlp_ratio: 2 },
          },
    dequantization: { kind: 'uniform' },
    label_dropout: 0.1,
  };
}

interface Case {
  name: string;
  cfg: RefConfig;
  scales: ParamScales;
  /** labels for the batch, −1 = null label; null = none given */
  labels: number[] | null;
  /** build the weights with the engine's initParams (then perturb) instead of our own generator */
  engineInit?: boolean;
}

// |a| stays O(1) across blocks (larger scales make Z^n blow up to 1e35 after 3 blocks)
const mild: ParamScales = { projOut: 0.25, projOutBias: 0.1 };
const strong: ParamScales = { projOut: 0.6, projOutBias: 0.2 };
// very negative raw σ outputs in the redundant head: σ ≈ 1/|r| ∈ [1e-5, 1e-3] (square_plus stability) …
const tinySigma: ParamScales = {
  projOut: 0.6,
  projOutBias: 0.2,
  override: (name, i, rng) => {
    // head_red with K_R = 1, d_R = 2: rows [logit | μ0 μ1 | raw0 raw1]; weights of raw rows zeroed so raw = bias
    if (name === 'ar.head_red.bias' && i >= 3) return i === 3 ? -2e3 : -8e4;
    if (name === 'ar.head_red.weight' && i >= 3 * 16) return 0;
    if (name === 'ar.head_red.bias' && i >= 1) return 0.05 * rng.normal();
    return null;
  },
};
// … and below the 1e-6 floor (σ = max(square_plus(raw), 1e-6))
const flooredSigma: ParamScales = {
  projOut: 0.6,
  projOutBias: 0.2,
  override: (name, i) => {
    if (name === 'ar.head_red.bias' && i >= 3) return -3e7;
    if (name === 'ar.head_red.weight' && i >= 3 * 16) return 0;
    return null;
  },
};

// Everything entering the first LayerNorms tiny (variance ~1e-5), so LayerNorm's eps 1e-5 matters.
const smallActivations: ParamScales = {
  projOut: 0.25,
  projOutBias: 0.1,
  override: (name, _i, _rng, v) =>
    /proj_in\.(weight|bias)$|pos_embed$|class_embed$|cond_embed$|cond_pos$/.test(name) ? v * 0.003 : null,
};

const cases: Case[] = [
  {
    name: 'farmer, unconditional, 1 block (odd) + final_permute, gray 4×4 p2',
    cfg: config({ blocks: 1, numClasses: 0 }),
    scales: strong,
    labels: null,
  },
  {
    name: 'farmer, 2 blocks (even) + final_permute, class-conditional AF, soft_clip 0.4',
    cfg: config({ blocks: 2, numClasses: 3, classCond: true, softClip: 0.4, M: 3, K: [2, 3] }),
    scales: { projOut: 1.5, projOutBias: 0.5 },
    labels: [0, -1, 2],
  },
  {
    name: 'farmer, 3 blocks (odd), final_permute false, K = 1/1, cond_repeat 3',
    cfg: config({ blocks: 3, numClasses: 2, finalPermute: false, K: [1, 1], M: 3 }),
    scales: mild,
    labels: [1, -1, 0],
  },
  {
    name: 'farmer, 3 blocks (odd) + final_permute, RGB 4×4 p2 (d = 12), class-conditional AF',
    cfg: config({ blocks: 3, channels: 3, numClasses: 4, classCond: true, dI: 5, K: [3, 1], M: 2 }),
    scales: { projOut: 0.2, projOutBias: 0.1 },
    labels: [3, -1, 1],
  },
  {
    name: 'farmer, 2 blocks (even), final_permute false, gray 6×6 (N = 9), cond_repeat 1, d_I = d − 1',
    cfg: config({ blocks: 2, size: 6, numClasses: 3, finalPermute: false, M: 1, dI: 3, K: [1, 2] }),
    scales: mild,
    labels: [-1, 2, 0],
  },
  {
    name: 'farmer, 4 blocks (even) + final_permute, 2 layers, 4 heads, d_I = 1, soft_clip 0.5, class-conditional AF',
    cfg: config({
      blocks: 4,
      afLayers: 2,
      arLayers: 2,
      headDim: 4,
      numClasses: 2,
      classCond: true,
      softClip: 0.5,
      dI: 1,
      M: 4,
      K: [4, 3],
    }),
    scales: { projOut: 1.2, projOutBias: 0.4 },
    labels: [1, 0, -1],
  },
  {
    name: 'farmer, patch 1, RGB 3×3, 1 block + final_permute, 5 classes',
    cfg: config({ blocks: 1, size: 3, channels: 3, patch: 1, numClasses: 5, dI: 1, K: [2, 2], M: 2 }),
    scales: mild,
    labels: [4, -1, 0],
  },
  {
    name: 'farmer, 1 block, final_permute false, unconditional',
    cfg: config({ blocks: 1, numClasses: 0, finalPermute: false, K: [2, 1] }),
    scales: mild,
    labels: null,
  },
  {
    name: 'farmer, conditional AR, labels omitted (null label for every image)',
    cfg: config({ blocks: 2, numClasses: 3, classCond: true, softClip: 1, K: [2, 2] }),
    scales: mild,
    labels: null,
  },
  {
    name: 'farmer, redundant σ ≈ 1e-3 … 1e-5 (square_plus of very negative raw)',
    cfg: config({ blocks: 1, numClasses: 0, K: [2, 1] }),
    scales: tinySigma,
    labels: null,
  },
  {
    name: 'farmer, redundant σ at the 1e-6 floor',
    cfg: config({ blocks: 1, numClasses: 0, K: [2, 1] }),
    scales: flooredSigma,
    labels: null,
  },
  {
    name: 'farmer, tiny activations before the first LayerNorms (eps 1e-5 matters)',
    cfg: config({ blocks: 2, numClasses: 2, classCond: true, K: [2, 2] }),
    scales: smallActivations,
    labels: [0, -1, 1],
  },
  {
    name: 'gaussian, class-conditional AF (TARFlow), 2 blocks, soft_clip 1',
    cfg: config({ prior: 'gaussian', blocks: 2, numClasses: 4, classCond: true, softClip: 1 }),
    scales: { projOut: 1.5, projOutBias: 0.5 },
    labels: [2, -1, 3],
  },
  {
    name: 'gaussian, unconditional, 3 blocks, RGB 6×6 p2',
    cfg: config({ prior: 'gaussian', blocks: 3, size: 6, channels: 3, numClasses: 0 }),
    scales: { projOut: 0.15, projOutBias: 0.1 },
    labels: null,
  },
  {
    name: 'gaussian, unconditional AF but num_classes > 0 (labels are ignored)',
    cfg: config({ prior: 'gaussian', blocks: 1, numClasses: 3 }),
    scales: mild,
    labels: [0, -1, 2],
  },
  {
    name: 'farmer from the engine initParams (projOutStd 0.2), embeddings and LNs perturbed',
    cfg: config({ blocks: 2, numClasses: 2, classCond: true, K: [3, 2] }),
    scales: mild,
    labels: [1, -1, 0],
    engineInit: true,
  },
];

const B = 3;

// ---------------------------------------------------------------------------------------------
// Building both views of one checkpoint

function toTf(p: RefParams): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>();
  for (const [name, t] of p) m.set(name, tf.tensor(Float32Array.from(t.data), t.shape));
  return m;
}

/** Weights from the engine's own initializer, perturbed with our generator, read back as float64. */
function engineInitParams(c: Case, seed: number): RefParams {
  const cfg = parseConfig(JSON.parse(JSON.stringify(c.cfg)));
  const params = initParams(cfg, { seed, projOutStd: 0.2 });
  const noise = randomRefParams(c.cfg, seed + 1, c.scales);
  const out: RefParams = new Map();
  for (const [name, t] of params) {
    const v = Float64Array.from(t.dataSync());
    const n = noise.get(name)!.data;
    for (let i = 0; i < v.length; i++) {
      if (/pos_embed|class_embed|cond_/.test(name)) v[i] = Math.fround(v[i] * 20 + n[i]);
      else if (/norm\.(weight|bias)$/.test(name)) v[i] = Math.fround(n[i]);
    }
    out.set(name, { shape: t.shape.slice(), data: v });
    t.dispose();
  }
  return out;
}

interface Prepared {
  refParams: RefParams;
  x: Float32Array;
  ref: RefForward[];
}

const prepared = new Map<string, Prepared>();
function prepare(c: Case, idx: number): Prepared {
  let p = prepared.get(c.name);
  if (!p) {
    const seed = 1000 + 17 * idx;
    const refParams = c.engineInit ? engineInitParams(c, seed) : randomRefParams(c.cfg, seed, c.scales);
    const x = randomImages(c.cfg, B, seed + 5);
    p = { refParams, x, ref: refForward(c.cfg, refParams, x, B, c.labels) };
    prepared.set(c.name, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Tolerances: float32 engine vs float64 reference

const TOL = {
  latent: { atol: 1e-4, rtol: 1e-4 },
  /** per-token logdet: a sum over d outputs */
  token: { atol: 2e-4, rtol: 1e-4 },
  /** sums over all N·d sub-pixels (logdet, log-prior, log p(x)) */
  sum: { atol: 1e-3, rtol: 1e-4 },
  perDim: { atol: 2e-5, rtol: 1e-4 },
};

interface EngineOut {
  z: Float32Array;
  latents: Float32Array[];
  logdet: Float32Array;
  logdetPerBlock: Float32Array;
  logdetPerToken: Float32Array;
  logPrior: Float32Array;
  logPx: Float32Array;
  nllPerDim: Float32Array;
  shapes: Record<string, number[]>;
}

async function runEngine(c: Case, p: Prepared, labels: number[] | null): Promise<EngineOut> {
  const cfg = parseConfig(JSON.parse(JSON.stringify(c.cfg)));
  const params = toTf(p.refParams);
  const model = makeModel(cfg, params);
  const { height, width, channels } = c.cfg.image;
  const x = tf.tensor4d(p.x, [B, height, width, channels]);
  const a = analyzeForward(model, x, labels ? Int32Array.from(labels) : null, true);
  try {
    const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
    return {
      z: await read(a.z),
      latents: await Promise.all(a.latents.map(read)),
      logdet: await read(a.logdet),
      logdetPerBlock: await read(a.logdetPerBlock),
      logdetPerToken: await read(a.logdetPerToken),
      logPrior: await read(a.logPrior),
      logPx: await read(a.logPx),
      nllPerDim: await read(a.nllPerDim),
      shapes: {
        z: a.z.shape,
        logdet: a.logdet.shape,
        logdetPerBlock: a.logdetPerBlock.shape,
        logdetPerToken: a.logdetPerToken.shape,
        logPrior: a.logPrior.shape,
        logPx: a.logPx.shape,
        nllPerDim: a.nllPerDim.shape,
        ...Object.fromEntries(a.latents.map((l, k) => [`latent${k + 1}`, l.shape])),
      },
    };
  } finally {
    disposeAnalysis(a);
    x.dispose();
    for (const t of params.values()) t.dispose();
  }
}

function compareAll(c: Case, ref: RefForward[], e: EngineOut): Mismatch[] {
  const n = c.cfg.af.blocks;
  const { N, d } = refDims(c.cfg);
  const flatLatent = (sel: (r: RefForward) => number[][]) => ref.flatMap((r) => sel(r).flat());
  const out: Mismatch[] = [];
  out.push(
    worst(
      'z',
      e.z,
      flatLatent((r) => r.z),
      TOL.latent.atol,
      TOL.latent.rtol,
    ),
  );
  for (let k = 0; k < n; k++)
    out.push(
      worst(
        `Z^${k + 1}`,
        e.latents[k] ?? [],
        flatLatent((r) => r.latents[k]),
        TOL.latent.atol,
        TOL.latent.rtol,
      ),
    );
  out.push(
    worst(
      'logdet',
      e.logdet,
      ref.map((r) => r.logdet),
      TOL.sum.atol,
      TOL.sum.rtol,
    ),
  );
  out.push(
    worst(
      'logdetPerBlock',
      e.logdetPerBlock,
      ref.flatMap((r) => r.logdetPerBlock),
      TOL.sum.atol,
      TOL.sum.rtol,
    ),
  );
  out.push(
    worst(
      'logdetPerToken',
      e.logdetPerToken,
      ref.flatMap((r) => r.logdetPerToken.flat()),
      TOL.token.atol,
      TOL.token.rtol,
    ),
  );
  out.push(
    worst(
      'logPrior',
      e.logPrior,
      ref.map((r) => r.logPrior),
      TOL.sum.atol,
      TOL.sum.rtol,
    ),
  );
  out.push(
    worst(
      'logPx',
      e.logPx,
      ref.map((r) => r.logPx),
      TOL.sum.atol,
      TOL.sum.rtol,
    ),
  );
  out.push(
    worst(
      'nllPerDim',
      e.nllPerDim,
      ref.map((r) => r.nllPerDim),
      TOL.perDim.atol,
      TOL.perDim.rtol,
    ),
  );
  const expectShapes: Record<string, number[]> = {
    z: [B, N, d],
    logdet: [B],
    logdetPerBlock: [B, n],
    logdetPerToken: [B, n, N],
    logPrior: [B],
    logPx: [B],
    nllPerDim: [B],
    ...Object.fromEntries(Array.from({ length: n }, (_, k) => [`latent${k + 1}`, [B, N, d]])),
  };
  if (JSON.stringify(e.shapes) !== JSON.stringify(expectShapes)) {
    out.push({
      what: `shapes ${JSON.stringify(e.shapes)} ≠ ${JSON.stringify(expectShapes)}`,
      index: -1,
      engine: NaN,
      ref: NaN,
      ratio: Infinity,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe("checkpoint layout (the specification's table) matches paramShapes", () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const cfg = parseConfig(JSON.parse(JSON.stringify(c.cfg)));
    const engine = [...paramShapes(cfg)].map(([k, s]) => `${k}:${s.join('x')}`).sort();
    const ours = [...prepare(c, cases.indexOf(c)).refParams].map(([k, t]) => `${k}:${t.shape.join('x')}`).sort();
    expect(engine).toEqual(ours);
  });
});

describe('bitsPerDim', () => {
  it('BPD = (L + ln 128)/ln 2', () => {
    for (const L of [0, 0.5, 1.234, 3, -0.25, 7.5])
      expect(Math.abs(bitsPerDim(L) - refBitsPerDim(L))).toBeLessThan(1e-6);
    expect(Math.abs(bitsPerDim(0) - 7)).toBeLessThan(1e-9);
  });
});

describe.each(['cpu', 'wasm'] as const)('analyzeForward vs float64 reference on %s', (backend) => {
  let previous = '';
  beforeAll(async () => {
    previous = tf.getBackend();
    expect(await tf.setBackend(backend)).toBe(true);
    await tf.ready();
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const p = prepare(c, cases.indexOf(c));
    const e = await runEngine(c, p, c.labels);
    const results = compareAll(c, p.ref, e);
    if (process.env.REF_VERBOSE)
      console.log(`${backend} ${c.name}\n  ` + results.map((m) => `${m.what} ${m.ratio.toFixed(3)}`).join(', '));
    const bad = results.filter((m) => !(m.ratio <= 1));
    expect(bad.map(describeMismatch)).toEqual([]);
    // the checkpoint really exercises things: non-trivial logdet, and the latent moved
    expect(p.ref.some((r) => Math.abs(r.logdet) > 0.1)).toBe(true);
    // bpd of the engine's own nll agrees too
    for (let b = 0; b < B; b++) {
      const r = refBitsPerDim(p.ref[b].nllPerDim);
      expect(Math.abs(bitsPerDim(e.nllPerDim[b]) - r)).toBeLessThanOrEqual(5e-5 + 1e-4 * Math.abs(r));
    }
  });

  it('labels omitted = all labels −1 (null label) for a conditional model', async () => {
    const c = cases.find((q) => q.name.startsWith('farmer, 4 blocks'))!;
    const p = prepare(c, cases.indexOf(c));
    const none = await runEngine(c, p, null);
    const nul = await runEngine(c, p, [-1, -1, -1]);
    expect(Array.from(none.logPx)).toEqual(Array.from(nul.logPx));
    expect(Array.from(none.z)).toEqual(Array.from(nul.z));
    const ref = refForward(c.cfg, p.refParams, p.x, B, null);
    const bad = compareAll(c, ref, none).filter((m) => !(m.ratio <= 1));
    expect(bad.map(describeMismatch)).toEqual([]);
  });
});
