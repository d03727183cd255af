// Seeded randomness and comparison helpers for the reference tests (no engine imports).
import type { RefConfig, RefParams } from './ref';
import { refParamShapes } from './ref';

/** mulberry32 uniform in [0, 1) plus Box–Muller normals; our own, independent of src/lib/util/random. */
export class RefRng {
  private s: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  uniform(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u <= 1e-300) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export interface ParamScales {
  /** std of af.blocks.*.proj_out weights (times 1/√W) */
  projOut: number;
  /** std of the af proj_out bias */
  projOutBias: number;
  /** optional per-name override: return a value generator or null for the default */
  override?: (name: string, index: number, rng: RefRng, defaultValue: number) => number | null;
}

/**
 * Random checkpoint with every tensor exercised: LN weights/biases random, embeddings large,
 * GMM heads with distinct components (negative raw values included). Values are rounded to
 * float32 so the engine and the reference see identical weights.
 */
export function randomRefParams(cfg: RefConfig, seed: number, sc: ParamScales): RefParams {
  const rng = new RefRng(seed);
  const out: RefParams = new Map();
  for (const [name, shape] of refParamShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 2 ? shape[1] : 1;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = rng.normal();
      let v: number;
      if (/norm\.weight$/.test(name)) v = 1 + 0.3 * g;
      else if (/norm\.bias$/.test(name)) v = 0.2 * g;
      else if (/pos_embed$|cond_pos$/.test(name)) v = 0.5 * g;
      else if (/class_embed$|cond_embed$/.test(name)) v = 0.8 * g;
      else if (/^af\.blocks\.\d+\.proj_out\.weight$/.test(name)) v = (sc.projOut / Math.sqrt(fanIn)) * g;
      else if (/^af\.blocks\.\d+\.proj_out\.bias$/.test(name)) v = sc.projOutBias * g;
      else if (/head_(info|red)\.weight$/.test(name)) v = 0.3 * g;
      else if (/head_(info|red)\.bias$/.test(name)) v = 0.5 * g;
      else if (/\.weight$/.test(name)) v = (1.2 / Math.sqrt(fanIn)) * g;
      else if (/\.bias$/.test(name)) v = 0.1 * g;
      else throw new Error(`randomRefParams: no rule for ${name}`);
      const o = sc.override?.(name, i, rng, v);
      data[i] = Math.fround(o ?? v);
    }
    out.set(name, { shape, data });
  }
  return out;
}

/** Model-space images in [-1, 1], float32-rounded, flat [B,H,W,C]. */
export function randomImages(cfg: RefConfig, B: number, seed: number): Float32Array {
  const rng = new RefRng(seed);
  const n = B * cfg.image.height * cfg.image.width * cfg.image.channels;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 2 * rng.uniform() - 1;
  return x;
}

export interface Mismatch {
  what: string;
  index: number;
  engine: number;
  ref: number;
  ratio: number;
}

/**
 * Worst |e − r| / (atol + rtol·|r|) over the arrays; ≤ 1 passes. Non-finite engine values fail.
 */
export function worst(
  what: string,
  engine: ArrayLike<number>,
  ref: ArrayLike<number>,
  atol: number,
  rtol: number,
): Mismatch {
  if (engine.length !== ref.length)
    return {
      what: `${what} (length ${engine.length} vs ${ref.length})`,
      index: -1,
      engine: NaN,
      ref: NaN,
      ratio: Infinity,
    };
  let w: Mismatch = { what, index: -1, engine: 0, ref: 0, ratio: 0 };
  for (let i = 0; i < ref.length; i++) {
    const e = engine[i];
    const r = ref[i];
    const ratio = Number.isFinite(e) ? Math.abs(e - r) / (atol + rtol * Math.abs(r)) : Infinity;
    if (!(ratio <= w.ratio)) w = { what, index: i, engine: e, ref: r, ratio };
  }
  return w;
}

export function describeMismatch(m: Mismatch): string {
  return `${m.what}[${m.index}]: engine ${m.engine} vs reference ${m.ref} (${m.ratio.toFixed(2)}× tolerance)`;
}
