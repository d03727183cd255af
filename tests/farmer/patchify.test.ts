import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchify, unpatchify } from '../../src/lib/farmer/patchify';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('patchify', () => {
  it('puts channel c, row r, column s of patch (i, j) at token i·(W/p)+j, index c·p²+r·p+s (slow loop)', async () => {
    const [B, H, W, C, p] = [2, 6, 4, 3, 2];
    const x = new Rng(1).normals(B * H * W * C);
    const tokens = await patchify(tf.tensor4d(x, [B, H, W, C]), p).data();
    const N = (H / p) * (W / p),
      d = C * p * p;
    for (let b = 0; b < B; b++)
      for (let i = 0; i < H / p; i++)
        for (let j = 0; j < W / p; j++)
          for (let c = 0; c < C; c++)
            for (let r = 0; r < p; r++)
              for (let s = 0; s < p; s++) {
                const pixel = x[((b * H + i * p + r) * W + j * p + s) * C + c];
                expect(tokens[(b * N + i * (W / p) + j) * d + c * p * p + r * p + s]).toBe(pixel);
              }
  });

  it('unpatchify inverts patchify exactly', async () => {
    const x = tf.tensor4d(new Rng(2).normals(3 * 8 * 12 * 2), [3, 8, 12, 2]);
    const back = unpatchify(patchify(x, 4), 4, 8, 12, 2);
    expect(Array.from(await back.data())).toEqual(Array.from(await x.data()));
  });
});
