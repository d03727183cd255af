import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, readTensor, SafetensorsError, serializeSafetensors } from '../../src/lib/io/safetensors';
import { decodeBF16, decodeF16, encodeF16, floatToF16 } from '../../src/lib/io/float16';
import { rawFile, split } from './helpers';

const hasNumpy = (() => {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('float16', () => {
  it('decodes bit patterns to their closed-form values', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3800, 0.5],
      [0x0000, 0],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x0400, 2 ** -14],
      [0x7bff, 65504],
      [0x3555, 0.333251953125],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x8001, -(2 ** -24)],
    ];
    const out = decodeF16(Uint16Array.from(cases.map(([h]) => h)));
    cases.forEach(([, v], i) => expect(out[i]).toBe(v));
    expect(Object.is(decodeF16(Uint16Array.of(0x8000))[0], -0)).toBe(true);
    expect(Number.isNaN(decodeF16(Uint16Array.of(0x7e00))[0])).toBe(true);
    expect(Number.isNaN(decodeF16(Uint16Array.of(0xfc01))[0])).toBe(true);
  });

  it('encoding inverts decoding for every non-NaN pattern', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const values = decodeF16(all);
    const back = encodeF16(values);
    for (let h = 0; h < 65536; h++)
      if (!Number.isNaN(values[h]) && back[h] !== h) throw new Error(`0x${h.toString(16)} → 0x${back[h].toString(16)}`);
    expect(floatToF16(NaN) & 0x7c00).toBe(0x7c00);
    expect(floatToF16(NaN) & 0x3ff).not.toBe(0);
  });

  it('rounds to nearest, ties to even, and overflows to infinity', () => {
    expect(floatToF16(1 + 2 ** -11)).toBe(0x3c00); // tie, even mantissa kept
    expect(floatToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, rounds up to even
    expect(floatToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    expect(floatToF16(65519)).toBe(0x7bff);
    expect(floatToF16(65520)).toBe(0x7c00);
    expect(floatToF16(-1e9)).toBe(0xfc00);
    expect(floatToF16(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal
    expect(floatToF16(1.5 * 2 ** -25)).toBe(0x0001);
    expect(floatToF16(-(2 ** -26))).toBe(0x8000);
    expect(floatToF16(2 ** -14 - 2 ** -26)).toBe(0x0400); // subnormal rounding carries into the smallest normal
  });

  it('decodes bfloat16 as the upper half of a float32', () => {
    expect(Array.from(decodeBF16(Uint16Array.of(0x3f80, 0xc000, 0x3f00, 0x7f80)))).toEqual([1, -2, 0.5, Infinity]);
  });
});

describe('safetensors container', () => {
  it('round-trips tensors of several dtypes with metadata and a padded header', () => {
    const a = Float32Array.of(1, -2.5, 3.25, 1e-3, 7, 8);
    const bytes = serializeSafetensors(
      [
        ['b.weight', { dtype: 'F32', shape: [2, 3], data: a }],
        ['a.half', { dtype: 'F16', shape: [3], data: Float32Array.of(1, -2, 0.5) }],
        ['ids', { dtype: 'I32', shape: [2], data: Int32Array.of(-5, 1 << 30) }],
        ['px', { dtype: 'U8', shape: [1, 3], data: Uint8Array.of(0, 128, 255) }],
        ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
      ],
      { hello: 'world' },
    );
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(0);
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual({ hello: 'world' });
    expect(file.tensors.map((t) => t.name)).toEqual(['b.weight', 'a.half', 'ids', 'px', 'empty']);
    const get = (name: string) =>
      readTensor(
        file,
        file.tensors.find((t) => t.name === name)!,
      ) as ArrayLike<number>;
    expect(get('b.weight')).toEqual(a);
    expect(Array.from(get('a.half'))).toEqual([1, -2, 0.5]);
    expect(Array.from(get('ids'))).toEqual([-5, 1 << 30]);
    expect(Array.from(get('px'))).toEqual([0, 128, 255]);
    expect(get('empty').length).toBe(0);
    // offsets are contiguous from 0
    const { header } = split(bytes);
    expect(header['b.weight'].data_offsets).toEqual([0, 24]);
    expect(header['a.half'].data_offsets).toEqual([24, 30]);
  });

  it('reads a Node Buffer that is a view into a larger pool', () => {
    const bytes = serializeSafetensors([['x', { dtype: 'F32', shape: [2], data: Float32Array.of(3, 4) }]]);
    const pool = Buffer.alloc(bytes.length + 13);
    pool.set(bytes, 5);
    const view = pool.subarray(5, 5 + bytes.length);
    const file = parseSafetensors(view);
    expect(readTensor(file, file.tensors[0])).toEqual(Float32Array.of(3, 4));
  });

  it('reads tensors after an unpadded header (data not 4-byte aligned)', () => {
    const data = new Uint8Array(Float32Array.of(1.5, -1).buffer);
    const bytes = rawFile(JSON.stringify({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }) + ' ', data);
    expect((bytes.length - 8 - 8) % 4).not.toBe(0);
    const file = parseSafetensors(bytes);
    expect(readTensor(file, file.tensors[0])).toEqual(Float32Array.of(1.5, -1));
  });

  it('names the problem for malformed containers', () => {
    const bad = (bytes: Uint8Array, pattern: RegExp) => {
      expect(() => parseSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => parseSafetensors(bytes)).toThrow(pattern);
    };
    bad(new Uint8Array(3), /3 bytes, shorter than/);
    bad(
      rawFile('{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', new Uint8Array(2)),
      /tensor t: .*past the end/,
    );
    bad(rawFile('{"t": 1}'), /tensor t: header entry is not an object/);
    bad(rawFile('{"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}'), /tensor t: shape/);
    bad(rawFile('{"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}'), /end before they begin/);
    bad(rawFile('{"__metadata__": {"a": 1}}'), /__metadata__.a is not a string/);
    bad(
      rawFile(
        '{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'.replace('[0, 4]', '[0, 4.5]'),
        new Uint8Array(8),
      ),
      /not a pair/,
    );
    bad(Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe), /not valid UTF-8/);
  });
});

describe.skipIf(!hasNumpy)('a safetensors file written by Python (struct + numpy)', () => {
  it('reads F16, F32, I64 and U8 tensors and metadata', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'py.safetensors');
    const script = `
import json, struct, numpy as np, sys
ts = {'w': np.array([[1.0, -2.0], [0.5, 65504.0]], dtype='<f2'), 'v': np.array([0.1, -3.75, 1e-8], dtype='<f4'),
      'i': np.array([-1, 2**31 - 1, 5], dtype='<i8'), 'u': np.array([[0, 7, 255]], dtype='|u1')}
header, blobs, off = {'__metadata__': {'k': 'v'}}, [], 0
for name in ['v', 'w', 'i', 'u']:
    b = ts[name].tobytes(); header[name] = {'dtype': {'f2': 'F16', 'f4': 'F32', 'i8': 'I64', 'u1': 'U8'}[ts[name].dtype.str[1:]],
        'shape': list(ts[name].shape), 'data_offsets': [off, off + len(b)]}; blobs.append(b); off += len(b)
h = json.dumps(header).encode(); h += b' ' * (-len(h) % 8)
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
`;
    try {
      execFileSync('python3', ['-c', script, path]);
      const file = parseSafetensors(new Uint8Array(readFileSync(path)));
      expect(file.metadata).toEqual({ k: 'v' });
      const get = (name: string) =>
        readTensor(
          file,
          file.tensors.find((t) => t.name === name)!,
        );
      expect(Array.from(get('w') as Float32Array)).toEqual([1, -2, 0.5, 65504]);
      expect(get('v')).toEqual(Float32Array.of(0.1, -3.75, 1e-8));
      expect(Array.from(get('i') as BigInt64Array)).toEqual([-1n, 2n ** 31n - 1n, 5n]);
      expect(get('u')).toEqual(Uint8Array.of(0, 7, 255));
      expect(file.tensors.find((t) => t.name === 'u')!.shape).toEqual([1, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
