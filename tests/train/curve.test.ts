import { describe, expect, it } from 'vitest';
import { curveSummary } from '../../src/lib/train/curve';

describe('curveSummary', () => {
  it('keeps at most `points` pairs, each the mean of a run of non-skipped lines ending at its last step', () => {
    const lines = Array.from({ length: 10 }, (_, i) => ({ step: i + 1, v: i, skipped: i === 4 }));
    // runs of ceil(10/4) = 3 lines: [0,1,2], [3,(4 skipped),5], [6,7,8], [9]
    expect(curveSummary(lines, (l) => l.v, 4)).toEqual([
      [3, 1],
      [6, 4],
      [9, 7],
      [10, 9],
    ]);
    expect(curveSummary(lines, (l) => l.v / 3, 100, 3)).toHaveLength(9); // the skipped line drops out
    expect(curveSummary([], (l: { step: number; skipped: boolean }) => l.step)).toEqual([]);
  });
});
