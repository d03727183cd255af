// A seeded generator shared by every random draw in the engine, so that results depend on the
// seed alone and not on the backend (tfjs random ops are not used for model randomness).

/** sfc32 state seeded through splitmix32; `seed` may be any integer. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** uniform in [0, 1) with 53 random bits */
  uniform(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** standard normal (Box–Muller, caching the second value) */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  normals(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }

  uniforms(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** index drawn from unnormalised log-weights (Gumbel-free, via max-shifted exp) */
  categorical(logWeights: ArrayLike<number>, offset = 0, length = logWeights.length - offset): number {
    let max = -Infinity;
    for (let i = 0; i < length; i++) max = Math.max(max, logWeights[offset + i]);
    let total = 0;
    for (let i = 0; i < length; i++) total += Math.exp(logWeights[offset + i] - max);
    let u = this.uniform() * total;
    for (let i = 0; i < length; i++) {
      u -= Math.exp(logWeights[offset + i] - max);
      if (u < 0) return i;
    }
    return length - 1;
  }

  /** an independent generator derived from this one (for per-sample streams) */
  fork(): Rng {
    return new Rng(this.nextU32());
  }
}
