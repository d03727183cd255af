import { describe, expect, it } from 'vitest';
import { encodeDatasetBin, parseDatasetBin } from '../../src/lib/data/binfile';
import { datasetInfo } from '../../src/lib/data/datasets';

const set = { n: 3, height: 2, width: 2, channels: 1, images: Uint8Array.from({ length: 12 }, (_, i) => i * 20), labels: Uint8Array.from([0, 9, 4]) };

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
    expect(() => parseDatasetBin(bytes.subarray(0, 40), 'x.bin')).toThrow(/x.bin: header says 3×2×2×1 images \+ labels \(47 bytes\), file has 40/);
    expect(() => parseDatasetBin(new TextEncoder().encode('<!doctype html><html>....................'), '/data/x.bin')).toThrow(/got HTML/);
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
