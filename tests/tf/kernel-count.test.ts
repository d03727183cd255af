// countKernels counts what ran: a known chain of kernels, relabelling kernels left out.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { countKernels } from '../../src/lib/tf/kernel-count';

describe('countKernels', () => {
  it('counts k chained adds and a square as k + 1 kernels, reshapes not counted', async () => {
    await tf.setBackend('cpu');
    const a = tf.ones([4]);
    const k = 5;
    const c = await countKernels(async () => {
      let x = a;
      for (let i = 0; i < k; i++) x = x.add(1);
      const y = x.square().reshape([2, 2]);
      await y.data();
      tf.dispose([x, y]);
    });
    expect(c.engine).toBe(k + 1);
    expect(c.dispatches).toBeNull();
    expect(new Map(c.byName).get('Add')).toBe(k);
    a.dispose();
  });
});
