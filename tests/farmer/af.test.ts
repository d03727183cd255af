import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  afForward,
  afInverse,
  blockForward,
  blockInverse,
  blockInverseUncached,
  blockFlips,
} from '../../src/lib/farmer/af';
import { patchify } from '../../src/lib/farmer/patchify';
import { tinyModel, randomImages, type TinyOptions } from '../helpers/tiny';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const kinds: [string, TinyOptions][] = [
  ['unconditional AF', {}],
  ['class-conditional AF with soft clip, 3 blocks', { blocks: 3, classConditionalAf: true, softClip: 1.5 }],
  ['RGB, patch 2', { channels: 3, size: 4 }],
];
const labels = new Int32Array([0, 2, -1]);

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** log|det| of a dense matrix by LU with partial pivoting, in float64. */
function logAbsDet(a: Float64Array, n: number): number {
  const m = Float64Array.from(a);
  let s = 0;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[piv * n + c])) piv = r;
    if (piv !== c) for (let k = 0; k < n; k++) [m[c * n + k], m[piv * n + k]] = [m[piv * n + k], m[c * n + k]];
    s += Math.log(Math.abs(m[c * n + c]));
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / m[c * n + c];
      for (let k = c; k < n; k++) m[r * n + k] -= f * m[c * n + k];
    }
  }
  return s;
}

describe('autoregressive flow', () => {
  for (const [name, o] of kinds) {
    it(`${name}: block and whole-AF inverse(forward(x)) = x`, async () => {
      const m = tinyModel(o);
      const x = patchify(randomImages(m.config, 3), m.config.patch_size);
      for (let k = 0; k < m.config.af.blocks; k++) {
        const f = blockForward(m.params, m.config, k, x, { labels });
        expect(await maxAbsDiff(blockInverse(m.params, m.config, k, f.z, { labels }), x)).toBeLessThan(1e-4);
        expect(await maxAbsDiff(f.z, x)).toBeGreaterThan(1e-2); // the block really transforms
      }
      const f = afForward(m.params, m.config, x, { labels });
      expect(await maxAbsDiff(afInverse(m.params, m.config, f.z, { labels }), x)).toBeLessThan(1e-4);
    });

    it(`${name}: cached inverse equals the uncached one`, async () => {
      const m = tinyModel(o);
      const z = patchify(randomImages(m.config, 3, 9), m.config.patch_size);
      for (let k = 0; k < m.config.af.blocks; k++)
        expect(
          await maxAbsDiff(
            blockInverse(m.params, m.config, k, z, { labels }),
            blockInverseUncached(m.params, m.config, k, z, { labels }),
          ),
        ).toBeLessThan(1e-5);
    });
  }

  it('logdet equals log|det ∂Z/∂X| of the autodiff Jacobian, per block and in total', async () => {
    const m = tinyModel({ blocks: 3, classConditionalAf: true, softClip: 2 });
    const x = patchify(randomImages(m.config, 1, 4), m.config.patch_size); // [1, 4, 4]: D = 16
    const D = x.size;
    for (const blocks of [1, 3]) {
      const f = (xi: tf.Tensor) => {
        let z = xi as tf.Tensor3D;
        for (let k = 0; k < blocks; k++) z = blockForward(m.params, m.config, k, z, { labels: new Int32Array([1]) }).z;
        return z;
      };
      const J = new Float64Array(D * D);
      for (let i = 0; i < D; i++) {
        const e = tf.oneHot([i], D).reshape(x.shape).toFloat();
        const row = await tf
          .grad((xi) => f(xi).mul(e).sum())(x)
          .data();
        for (let j = 0; j < D; j++) J[i * D + j] = row[j];
      }
      const ld = afForward(m.params, { ...m.config, af: { ...m.config.af, blocks } }, x, {
        labels: new Int32Array([1]),
      });
      const expected = logAbsDet(J, D);
      expect(Math.abs(expected)).toBeGreaterThan(0.05); // non-trivial: the blocks change volume
      expect((await ld.logdet.data())[0]).toBeCloseTo(expected, 4);
      const perToken = await ld.logdetPerToken.sum(2).data();
      const perBlock = await ld.logdetPerBlock.data();
      for (let k = 0; k < blocks; k++) expect(perToken[k]).toBeCloseTo(perBlock[k], 5);
    }
  });

  it('is causal: changing token i (in the block order) changes only tokens at or after i', async () => {
    const m = tinyModel({ blocks: 2, size: 6 });
    const x = patchify(randomImages(m.config, 1, 5), m.config.patch_size); // N = 9
    const N = x.shape[1];
    for (let k = 0; k < 2; k++) {
      const order = Array.from({ length: N }, (_, t) => (blockFlips(k) ? N - 1 - t : t)); // block position → raster token
      const base = await blockForward(m.params, m.config, k, x).z.data();
      for (const i of [0, 4, N - 1]) {
        const bump = tf.oneHot([order[i]], N).reshape([1, N, 1]).mul(0.3);
        const z = await blockForward(m.params, m.config, k, x.add(bump) as tf.Tensor3D).z.data();
        const d = x.shape[2];
        for (let t = 0; t < N; t++) {
          let change = 0;
          for (let j = 0; j < d; j++) change = Math.max(change, Math.abs(z[order[t] * d + j] - base[order[t] * d + j]));
          if (t < i) expect(change).toBe(0);
          else if (t === i || t === i + 1) expect(change).toBeGreaterThan(1e-4); // the token itself and the next one see it
        }
      }
    }
  });
});
