import { describe, expect, it } from 'vitest';
import { colorClasses, colorize, HUE_CLASSES, hsvToRgb, imageColors } from '../../src/lib/data/colored';
import { sliceSet } from '../../src/lib/data/idx';
import { loadMnist } from '../../src/node/mnist';

describe('Colored MNIST', () => {
  it('converts HSV like the textbook table', () => {
    const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 12));
    close(hsvToRgb(0, 1, 1), [1, 0, 0]);
    close(hsvToRgb(1 / 3, 1, 1), [0, 1, 0]);
    close(hsvToRgb(2 / 3, 1, 1), [0, 0, 1]);
    close(hsvToRgb(1 / 6, 1, 1), [1, 1, 0]);
    close(hsvToRgb(0.5, 0.5, 0.8), [0.4, 0.8, 0.8]);
    close(hsvToRgb(0.25, 0, 0.3), [0.3, 0.3, 0.3]);
  });

  it('draws contrasting colours: hues 120°–240° apart, background darker', () => {
    for (let i = 0; i < 2000; i++) {
      const c = imageColors(i, 7);
      const gap = (c.bgHue - c.fgHue + 1) % 1;
      expect(gap).toBeGreaterThanOrEqual(1 / 3 - 1e-12);
      expect(gap).toBeLessThan(2 / 3 + 1e-12);
      expect(Math.max(...c.bg)).toBeLessThan(0.45);
      expect(Math.max(...c.fg)).toBeGreaterThanOrEqual(0.85);
      expect(c.fgClass).toBe(Math.floor(c.fgHue * HUE_CLASSES));
    }
  });

  it('colours pixel = round(255·(bg·(1−m) + fg·m)) per image, reproducibly, slices as the whole', () => {
    const grey = sliceSet(loadMnist('test'), 0, 50);
    const a = colorize(grey, 2002),
      b = colorize(grey, 2002),
      other = colorize(grey, 2003);
    expect([a.n, a.height, a.width, a.channels]).toEqual([50, 28, 28, 3]);
    expect(a.images).toEqual(b.images);
    expect(a.images).not.toEqual(other.images);
    for (const i of [0, 17, 49]) {
      const { fg, bg } = imageColors(i, 2002);
      for (const p of [0, 200, 350, 783]) {
        const m = grey.images[i * 784 + p] / 255;
        for (let c = 0; c < 3; c++)
          expect(a.images[(i * 784 + p) * 3 + c]).toBe(Math.round(255 * (bg[c] * (1 - m) + fg[c] * m)));
      }
    }
    const tail = colorize(sliceSet(grey, 20, 50), 2002, 20);
    expect(tail.images).toEqual(a.images.subarray(20 * 784 * 3));
    const classes = colorClasses(50, 2002);
    expect(classes.fg[17]).toBe(imageColors(17, 2002).fgClass);
  });

  it('spreads hue classes evenly', () => {
    const { fg, bg } = colorClasses(6000, 1001);
    for (const labels of [fg, bg]) {
      const counts = new Array(HUE_CLASSES).fill(0);
      labels.forEach((l) => counts[l]++);
      counts.forEach((c) => expect(Math.abs(c - 1000)).toBeLessThan(130));
    }
  });
});
