import { describe, expect, it } from 'vitest';
import { encodeDatasetBin, parseDatasetBin } from '../../src/lib/data/binfile';
import { colorize, coloredMnistSeeds } from '../../src/lib/data/colored';
import { datasetInfo, fetchTestSet } from '../../src/lib/data/datasets';

const set = {
  n: 3,
  height: 2,
  width: 2,
  channels: 1,
  images: Uint8Array.from({ length: 12 }, (_, i) => i * 20),
  labels: Uint8Array.from([0, 9, 4]),
};

describe('static/data dataset file', () => {
  it('round-trips images, labels and header', () => {
    const bytes = encodeDatasetBin(set, 10);
    expect(bytes.length).toBe(32 + 12 + 3);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('FWDS');
    const back = parseDatasetBin(bytes);
    expect([back.n, back.height, back.width, back.channels, back.numClasses]).toEqual([3, 2, 2, 1, 10]);
    expect([...back.images]).toEqual([...set.images]);
    expect([...back.labels]).toEqual([0, 9, 4]);
  });

  it('explains bad files', () => {
    const bytes = encodeDatasetBin(set, 10);
    expect(() => parseDatasetBin(bytes.subarray(0, 40), 'x.bin')).toThrow(
      /x.bin: header says 3×2×2×1 images \+ labels \(47 bytes\), file has 40/,
    );
    expect(() =>
      parseDatasetBin(new TextEncoder().encode('<!doctype html><html>....................'), '/data/x.bin'),
    ).toThrow(/got HTML/);
    expect(() => parseDatasetBin(new Uint8Array(10))).toThrow(/too short/);
    const badLabel = bytes.slice();
    badLabel[badLabel.length - 1] = 12;
    expect(() => parseDatasetBin(badLabel)).toThrow(/label 12 of image 2 is not below 10/);
    const badVersion = bytes.slice();
    badVersion[4] = 2;
    expect(() => parseDatasetBin(badVersion)).toThrow(/unsupported version 2/);
  });

  it('names the known datasets and refuses others', () => {
    expect(datasetInfo('colored-mnist').channels).toBe(3);
    expect(() => datasetInfo('cifar10')).toThrow(/unknown dataset "cifar10" \(known: mnist, colored-mnist\)/);
  });
});

describe('fetchTestSet (browser loader)', () => {
  const grey = {
    n: 2,
    height: 28,
    width: 28,
    channels: 1,
    images: Uint8Array.from({ length: 2 * 784 }, (_, i) => (i * 7) % 256),
    labels: Uint8Array.from([3, 8]),
  };
  const served: Record<string, Uint8Array> = { '/data/mnist-test.bin': encodeDatasetBin(grey, 10) };
  const fetchFn = (async (url: string) =>
    served[url]
      ? new Response(served[url] as Uint8Array<ArrayBuffer>)
      : new Response('<!doctype html>', { status: 404 })) as typeof fetch;

  it('loads MNIST and derives Colored MNIST from it exactly as Node does', async () => {
    const mnist = await fetchTestSet('mnist', { fetchFn });
    expect([...mnist.labels]).toEqual([3, 8]);
    const colored = await fetchTestSet('colored-mnist', { fetchFn, derive: true });
    expect(colored.channels).toBe(3);
    expect(colored.images).toEqual(colorize(grey, coloredMnistSeeds.test).images);
  });

  it('says how to build a missing file, and checks the shape', async () => {
    await expect(fetchTestSet('colored-mnist', { fetchFn })).rejects.toThrow(
      /colored-mnist-test.bin: HTTP 404 \(build it with `npx tsx scripts\/build-data.ts`\)/,
    );
    served['/data/colored-mnist-test.bin'] = encodeDatasetBin(grey, 10);
    await expect(fetchTestSet('colored-mnist', { fetchFn })).rejects.toThrow(/images are 28×28×1, expected 28×28×3/);
  });
});
