import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { encodePng, imageGrid, PngError } from '../../src/lib/io/png';

describe('png', () => {
  it('encodes grayscale and RGB images that decode to the same pixels', () => {
    const gray = Uint8Array.from({ length: 5 * 3 }, (_, i) => (i * 37) % 256);
    const g = decode(encodePng({ data: gray, height: 5, width: 3, channels: 1 }));
    expect([g.width, g.height, g.channels, g.depth]).toEqual([3, 5, 1, 8]);
    expect(Array.from(g.data)).toEqual(Array.from(gray));
    const rgb = Uint8Array.from({ length: 4 * 2 * 3 }, (_, i) => 255 - i * 5);
    const c = decode(encodePng({ data: rgb, height: 4, width: 2, channels: 3 }));
    expect([c.width, c.height, c.channels]).toEqual([2, 4, 3]);
    expect(Array.from(c.data)).toEqual(Array.from(rgb));
  });

  it('tiles images row by row with padding between and around them', () => {
    // three 2×2 gray images with values 1…4, 5…8, 9…12, two columns, pad 1 of value 0
    const images = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
    const grid = imageGrid(images, 3, 2, 2, 1, 2, 1);
    expect([grid.height, grid.width, grid.channels]).toEqual([7, 7, 1]);
    const rows = Array.from({ length: 7 }, (_, y) => Array.from(grid.data.subarray(y * 7, y * 7 + 7)));
    expect(rows).toEqual([
      [0, 0, 0, 0, 0, 0, 0],
      [0, 1, 2, 0, 5, 6, 0],
      [0, 3, 4, 0, 7, 8, 0],
      [0, 0, 0, 0, 0, 0, 0],
      [0, 9, 10, 0, 0, 0, 0],
      [0, 11, 12, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0],
    ]);
    const png = decode(encodePng(grid));
    expect(Array.from(png.data)).toEqual(Array.from(grid.data));
  });

  it('keeps RGB channels together and honours padValue', () => {
    const images = Uint8Array.of(10, 20, 30, 40, 50, 60); // two 1×1 RGB images
    const grid = imageGrid(images, 2, 1, 1, 3, 1, 1, 255);
    expect([grid.height, grid.width]).toEqual([5, 3]);
    const px = (y: number, x: number) => Array.from(grid.data.subarray((y * 3 + x) * 3, (y * 3 + x) * 3 + 3));
    expect(px(1, 1)).toEqual([10, 20, 30]);
    expect(px(3, 1)).toEqual([40, 50, 60]);
    expect(px(2, 1)).toEqual([255, 255, 255]);
  });

  it('refuses sizes that do not match', () => {
    expect(() => encodePng({ data: new Uint8Array(5), height: 2, width: 2, channels: 1 })).toThrow(PngError);
    expect(() => imageGrid(new Uint8Array(7), 2, 2, 2, 1, 2)).toThrow(/7 bytes do not fill 2×2×2×1/);
    expect(() => imageGrid(new Uint8Array(8), 2, 2, 2, 1, 0)).toThrow(/invalid cols 0/);
  });
});
