// The batch width: bounded by the work, the adapter's largest binding and the memory budget.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { batchWidth, chooseWidth } from '../../src/lib/tf/batch-width';
import { forwardFootprint, samplingFootprint } from '../../src/lib/farmer/footprint';
import { referenceConfig } from '../../src/lib/farmer/config';

const MiB = 2 ** 20;

describe('batchWidth', () => {
  const perImage = { largest: 1 * MiB, total: 10 * MiB };

  it('is the smallest of n, maxBinding / largest and budget / total', () => {
    expect(batchWidth(10_000, perImage, { maxBinding: 128 * MiB, budget: 2048 * MiB })).toBe(128);
    expect(batchWidth(10_000, perImage, { maxBinding: 4096 * MiB, budget: 1024 * MiB })).toBe(102);
    expect(batchWidth(50, perImage, { maxBinding: 4096 * MiB, budget: 1024 * MiB })).toBe(50);
  });

  it('is at least 1 even when one image exceeds the budget, and refuses a footprint that cannot be', () => {
    expect(batchWidth(10, perImage, { maxBinding: MiB / 2, budget: MiB })).toBe(1);
    expect(() => batchWidth(10, { largest: 0, total: 1 }, { maxBinding: MiB, budget: MiB })).toThrow(
      /invalid footprint/,
    );
    expect(() => batchWidth(10, { largest: 2, total: 1 }, { maxBinding: MiB, budget: MiB })).toThrow(
      /invalid footprint/,
    );
  });

  it('off webgpu keeps the narrow width', async () => {
    await tf.setBackend('cpu');
    expect(chooseWidth(1000, 64, perImage)).toBe(64);
    expect(chooseWidth(10, 64, perImage)).toBe(10);
  });

  it('the reference configuration: a GPU batch of 1000 samples fits 1 GiB and a 128 MiB binding; forward passes take hundreds', () => {
    const mem = { maxBinding: 128 * MiB, budget: 1024 * MiB };
    expect(batchWidth(1000, samplingFootprint(referenceConfig), mem)).toBe(1000);
    const forward = batchWidth(100_000, forwardFootprint(referenceConfig), mem);
    expect(forward).toBeGreaterThan(200);
    expect(forward).toBeLessThan(1000);
  });
});
