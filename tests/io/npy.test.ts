import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NpyError, readNpy, writeNpy } from '../../src/lib/io/npy';

const hasNumpy = (() => {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A .npy v1.0 file from a header dict written by hand and raw data bytes. */
function handMade(dict: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const header = dict + '\n';
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) new DataView(out.buffer).setUint16(8, header.length, true);
  else new DataView(out.buffer).setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(data, prefix + header.length);
  return out;
}

describe('npy round trip', () => {
  it('writes and reads float32, int32 and uint8 of any rank', () => {
    const cases = [
      { data: Float32Array.of(1.5, -2, 3e-8, 4, 5, 6), shape: [2, 3], dtype: '<f4' },
      { data: Int32Array.of(-1, 0, 2147483647, -2147483648, 9), shape: [5], dtype: '<i4' },
      { data: Uint8Array.of(0, 255, 7, 8), shape: [1, 2, 2, 1], dtype: '|u1' },
      { data: Float32Array.of(42), shape: [], dtype: '<f4' },
      { data: new Uint8Array(0), shape: [0, 28, 28], dtype: '|u1' },
    ];
    for (const c of cases) {
      const bytes = writeNpy(c.data, c.shape);
      const headerEnd = 10 + new DataView(bytes.buffer).getUint16(8, true);
      expect(headerEnd % 64).toBe(0);
      expect(bytes[headerEnd - 1]).toBe(0x0a);
      const back = readNpy(bytes);
      expect(back).toEqual({ data: c.data, shape: c.shape, dtype: c.dtype });
    }
  });

  it('refuses data that does not fill the shape', () => {
    expect(() => writeNpy(Float32Array.of(1, 2, 3), [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
  });
});

describe('npy headers written by hand', () => {
  const f4 = new Uint8Array(Float32Array.of(1, 2, 3, 4, 5).buffer);
  it('parses (5,), (), trailing commas, double quotes and v2.0 lengths', () => {
    expect(readNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", f4)).shape).toEqual([5]);
    expect(readNpy(handMade('{"shape": (5, ), "fortran_order": False, "descr": "<f4"}', f4, 2)).shape).toEqual([5]);
    expect(readNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f4.slice(0, 4)))).toEqual({
      data: Float32Array.of(1),
      shape: [],
      dtype: '<f4',
    });
    expect(readNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (5L,)}", f4)).shape).toEqual([5]);
  });

  it('names the problem in malformed files', () => {
    const bad = (bytes: Uint8Array, pattern: RegExp) => {
      expect(() => readNpy(bytes)).toThrow(NpyError);
      expect(() => readNpy(bytes)).toThrow(pattern);
    };
    bad(new Uint8Array(4), /not a \.npy file/);
    bad(Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 9, 0, 0, 0), /unsupported \.npy version 9\.0/);
    const ok = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", f4);
    bad(ok.slice(0, 30), /header length \d+ runs past the end of the file \(30 bytes\)/);
    bad(ok.slice(0, ok.length - 1), /data is 19 bytes, but shape \(5\) of <f4 needs 20 \(file truncated\?\)/);
    bad(
      handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (5,), }", f4),
      /fortran_order arrays are not supported/,
    );
    bad(handMade("{'descr': '<c8', 'fortran_order': False, 'shape': (5,), }", f4), /unsupported dtype '<c8'/);
    bad(handMade("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (5,), }", f4), /structured dtypes/);
    bad(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (5, -1), }", f4), /shape .* non-negative integers/);
    bad(handMade("{'descr': '<f4', 'fortran_order': False, }", f4), /header has no shape/);
    bad(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (5,)", f4), /not a Python literal/);
    bad(handMade('hello', f4), /not a Python literal/);
    const big = new Uint8Array(BigInt64Array.of(1n, 1n << 40n).buffer);
    bad(
      handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", big),
      /value 1099511627776 at index 1 does not fit in int32/,
    );
  });
});

describe.skipIf(!hasNumpy)('npy files and numpy', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'npy-'));
    execFileSync('python3', [
      '-c',
      `
import numpy as np, sys, os
d = sys.argv[1]
s = lambda n, a: np.save(os.path.join(d, n + '.npy'), a)
s('f4', np.array([[1.5, -2.0, 0.1], [4.0, 5.0, 6.0]], dtype='<f4'))
s('f8', np.array([0.1, -1e300, 3.0]))
s('f2', np.array([1.0, -2.0, 65504.0], dtype='<f2'))
s('be', np.array([1.5, -3.0], dtype='>f4'))
s('i8', np.array([-1, 0, 2**31 - 1, -2**31], dtype='<i8'))
s('i4', np.array([[3], [-4]], dtype='<i4'))
s('u1', np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
s('b1', np.array([True, False, True]))
s('scalar', np.float32(2.5))
s('fortran', np.asfortranarray(np.ones((2, 3), dtype='<f4')))
s('big', np.array([2**40], dtype='<i8'))
for v in [(2, 0), (3, 0)]:
    with open(os.path.join(d, 'v%d.npy' % v[0]), 'wb') as f:
        np.lib.format.write_array(f, np.array([7, 8], dtype='<i4'), version=v)
`,
      dir,
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const read = (name: string) => readNpy(new Uint8Array(readFileSync(join(dir, `${name}.npy`))));

  it('reads what np.save writes', () => {
    expect(read('f4')).toEqual({ data: Float32Array.of(1.5, -2, 0.1, 4, 5, 6), shape: [2, 3], dtype: '<f4' });
    expect(read('f8')).toEqual({ data: Float32Array.of(0.1, -Infinity, 3), shape: [3], dtype: '<f8' });
    expect(read('f2')).toEqual({ data: Float32Array.of(1, -2, 65504), shape: [3], dtype: '<f2' });
    expect(read('be')).toEqual({ data: Float32Array.of(1.5, -3), shape: [2], dtype: '>f4' });
    expect(read('i8')).toEqual({ data: Int32Array.of(-1, 0, 2 ** 31 - 1, -(2 ** 31)), shape: [4], dtype: '<i8' });
    expect(read('i4')).toEqual({ data: Int32Array.of(3, -4), shape: [2, 1], dtype: '<i4' });
    expect(read('u1')).toEqual({ data: Uint8Array.from({ length: 24 }, (_, i) => i), shape: [2, 3, 4], dtype: '|u1' });
    expect(read('b1')).toEqual({ data: Uint8Array.of(1, 0, 1), shape: [3], dtype: '|b1' });
    expect(read('scalar')).toEqual({ data: Float32Array.of(2.5), shape: [], dtype: '<f4' });
    expect(read('v2')).toEqual({ data: Int32Array.of(7, 8), shape: [2], dtype: '<i4' });
    expect(read('v3')).toEqual({ data: Int32Array.of(7, 8), shape: [2], dtype: '<i4' });
    expect(() => read('fortran')).toThrow(/fortran_order/);
    expect(() => read('big')).toThrow(/does not fit in int32/);
  });

  it('writes what np.load reads', () => {
    writeFileSync(join(dir, 'w_f4.npy'), writeNpy(Float32Array.of(0.25, -1, 3), [3, 1]));
    writeFileSync(join(dir, 'w_i4.npy'), writeNpy(Int32Array.of(-7, 8), [2]));
    writeFileSync(join(dir, 'w_u1.npy'), writeNpy(Uint8Array.of(1, 2, 3, 4), [2, 2]));
    writeFileSync(join(dir, 'w_s.npy'), writeNpy(Float32Array.of(9), []));
    const out = execFileSync('python3', [
      '-c',
      `
import numpy as np, sys, os, json
r = {}
for n in ['w_f4', 'w_i4', 'w_u1', 'w_s']:
    a = np.load(os.path.join(sys.argv[1], n + '.npy'))
    r[n] = [a.dtype.str, list(a.shape), a.ravel().tolist()]
print(json.dumps(r))
`,
      dir,
    ]).toString();
    expect(JSON.parse(out)).toEqual({
      w_f4: ['<f4', [3, 1], [0.25, -1, 3]],
      w_i4: ['<i4', [2], [-7, 8]],
      w_u1: ['|u1', [2, 2], [1, 2, 3, 4]],
      w_s: ['<f4', [], [9]],
    });
  });
});
