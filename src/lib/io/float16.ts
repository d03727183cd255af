// IEEE binary16 (float16) and bfloat16 ↔ float32, for safetensors and .npy files.

let f16Table: Float32Array | null = null;

/** The float32 value of every IEEE binary16 bit pattern. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  f16Table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1,
      exp = (h >> 10) & 0x1f,
      mant = h & 0x3ff;
    if (exp === 0)
      f16Table[h] = sign * mant * 2 ** -24; // zero and subnormals
    else if (exp === 31) f16Table[h] = mant ? NaN : sign * Infinity;
    else f16Table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return f16Table;
}

/** binary16 bits → float32 values. */
export function decodeF16(bits: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** bfloat16 bits (the upper half of a float32) → float32 values. */
export function decodeBF16(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → binary16 bits, rounding to nearest even; overflow gives ±Inf, NaN stays NaN. */
export function floatToF16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000,
    exp = (b >>> 23) & 0xff,
    mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const full = mant | 0x800000,
      shift = 14 - e;
    const rem = full & ((1 << shift) - 1),
      half = 1 << (shift - 1);
    let m = full >>> shift;
    if (rem > half || (rem === half && m & 1)) m++; // may carry into the smallest normal, correctly
    return sign | m;
  }
  let m = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && m & 1)) m++;
  const h = (e << 10) + m; // a mantissa carry rolls into the exponent
  return sign | Math.min(h, 0x7c00);
}

/** float32 values → binary16 bits (see floatToF16). */
export function encodeF16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToF16(values[i]);
  return out;
}
