// The incremental AR decoder used for sampling predicts, token by token with its KV cache, the same
// GMM parameters as the full-sequence prior used for log p(Z).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyModel } from '../helpers/tiny';
import { ArDecoder, arToken } from '../../src/lib/farmer/prior';
import { gmmFromRow, gmmLogDensityCpu } from '../../src/lib/farmer/gmm';
import { priorLogProb } from '../../src/lib/farmer/prior';
import { Rng } from '../../src/lib/util/random';
import type { FarmerPrior } from '../../src/lib/farmer/config';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('AR decoder', () => {
  for (const blocks of [2, 3]) {
    it(`log p(Z) from the decoder's step-by-step GMMs equals the full-sequence prior, token by token (${blocks} blocks)`, async () => {
      const m = tinyModel({ blocks, size: 6, informative: 3 });
      const prior = m.config.prior as FarmerPrior;
      const { tokens: N, tokenDim: d, informative: dI, redundant: dR } = m.dims;
      const B = 2;
      const labels = new Int32Array([1, -1]);
      const z = new Rng(3).normals(B * N * d);
      const terms = priorLogProb(m.params, m.config, tf.tensor3d(z, [B, N, d]), labels);
      const expected = await terms.logProb.data();
      const [infoPerToken, redPerToken] = await Promise.all([
        terms.informativePerToken.data(),
        terms.redundantPerToken.data(),
      ]);
      const gotInfo = new Float64Array(B * N),
        gotRed = new Float64Array(B * N); // raster token order
      const dec = new ArDecoder(m.params, m.config, B);
      const got = [0, 0];
      let head = dec.start(labels);
      for (let i = 0; i <= N; i++) {
        const out = (await head.data()) as Float32Array;
        head.dispose();
        if (i === N) {
          for (let b = 0; b < B; b++) {
            const g = gmmFromRow(out, b, prior.mixtures_redundant, dR);
            for (let t = 0; t < N; t++) {
              gotRed[b * N + t] = gmmLogDensityCpu(g, z.subarray((b * N + t) * d + dI, (b * N + t + 1) * d));
              got[b] += gotRed[b * N + t];
            }
          }
          break;
        }
        const token = new Float32Array(B * dI);
        for (let b = 0; b < B; b++) {
          const at = (b * N + arToken(m.config, i)) * d;
          token.set(z.subarray(at, at + dI), b * dI);
          gotInfo[b * N + arToken(m.config, i)] = gmmLogDensityCpu(
            gmmFromRow(out, b, prior.mixtures_informative, dI),
            z.subarray(at, at + dI),
          );
          got[b] += gotInfo[b * N + arToken(m.config, i)];
        }
        const t = tf.tensor2d(token, [B, dI]);
        head = dec.feed(t);
        t.dispose();
      }
      dec.dispose();
      for (let b = 0; b < B; b++) expect(got[b]).toBeCloseTo(expected[b], 3);
      for (let i = 0; i < B * N; i++) {
        expect(infoPerToken[i]).toBeCloseTo(gotInfo[i], 4);
        expect(redPerToken[i]).toBeCloseTo(gotRed[i], 4);
      }
    });
  }

  it('a gaussian prior puts the whole standard-normal log density of each token in the redundant term', async () => {
    const m = tinyModel({ prior: 'gaussian', size: 4 });
    const { tokens: N, tokenDim: d } = m.dims;
    const z = new Rng(5).normals(2 * N * d);
    const terms = priorLogProb(m.params, m.config, tf.tensor3d(z, [2, N, d]), new Int32Array([0, 1]));
    const [info, red] = await Promise.all([terms.informativePerToken.data(), terms.redundantPerToken.data()]);
    for (let t = 0; t < 2 * N; t++) {
      let expected = 0;
      for (let j = 0; j < d; j++) expected += -0.5 * z[t * d + j] ** 2 - 0.5 * Math.log(2 * Math.PI);
      expect(red[t]).toBeCloseTo(expected, 4);
      expect(info[t]).toBe(0);
    }
  });
});
