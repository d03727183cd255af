// Supplementary §9.1: with K = 1 the AR head is one more affine flow block over a standard
// normal. The test builds that flow explicitly from the AR network's outputs.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyModel, randomImages } from '../helpers/tiny';
import { analyzeForward } from '../../src/lib/farmer/model';
import { afForward } from '../../src/lib/farmer/af';
import { patchify } from '../../src/lib/farmer/patchify';
import { linear, layerNorm } from '../../src/lib/nn/layers';
import { transformerStack } from '../../src/lib/nn/transformer';
import type { FarmerPrior } from '../../src/lib/farmer/config';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const sp = (r: tf.Tensor) => r.add(r.square().add(4).sqrt()).div(2);

describe('K = 1', () => {
  for (const blocks of [2, 3]) {
    it(`FARMER with one mixture has the log-likelihood of the equivalent AF + Gaussian (${blocks} blocks)`, async () => {
      const m = tinyModel({ blocks, mixtures: [1, 1], informative: 3 });
      const cfg = m.config,
        P = m.params,
        prior = cfg.prior as FarmerPrior;
      const labels = new Int32Array([2, -1]);
      const x = randomImages(cfg, 2, 3);
      const { z, logdet } = afForward(P, cfg, patchify(x, cfg.patch_size));
      const [B, N, d] = z.shape,
        dI = prior.informative_dims,
        M = prior.cond_repeat;
      // AR order: reversed when final_permute and n is odd
      const flip = prior.final_permute && blocks % 2 === 1;
      const order = (t: tf.Tensor) => (flip ? tf.reverse(t, 1) : t);
      const zI = order(z.slice([0, 0, 0], [B, N, dI]));
      const zR = z.slice([0, 0, dI], [B, N, d - dI]);
      const condRows = tf.gather(P.get('ar.cond_embed')!, tf.tensor1d([2, cfg.num_classes], 'int32')); // null label → last row
      const prefix = condRows.expandDims(1).add(P.get('ar.cond_pos')!);
      const pos = flip ? tf.reverse(P.get('ar.pos_embed')!, 0) : P.get('ar.pos_embed')!;
      const u = linear(zI, P.get('ar.proj_in.weight')!, P.get('ar.proj_in.bias')!).add(pos);
      let h = transformerStack(P, tf.concat([prefix, u], 1), {
        prefix: 'ar',
        layers: prior.ar.layers,
        shape: prior.ar,
        causal: true,
      });
      h = layerNorm(h, P.get('ar.norm.weight')!, P.get('ar.norm.bias')!);
      // one affine flow step per token: z' = (z − μ)/σ, logdet −Σ log σ, then N(0, I)
      const affine = (hh: tf.Tensor, head: string, target: tf.Tensor, dg: number) => {
        const o = linear(hh, P.get(`${head}.weight`)!, P.get(`${head}.bias`)!); // [.., 1 + 2dg], logit unused (K = 1)
        const mu = o.slice([0, 0, 1], [-1, -1, dg]);
        const sigma = tf.maximum(sp(o.slice([0, 0, 1 + dg], [-1, -1, dg])), 1e-6);
        const zPrime = target.sub(mu).div(sigma);
        return zPrime
          .square()
          .mul(-0.5)
          .sub(0.5 * Math.log(2 * Math.PI))
          .sum([1, 2])
          .sub(
            sigma
              .log()
              .sum([1, 2])
              .mul(target.shape[1]! / sigma.shape[1]!),
          );
      };
      const logInfo = affine(h.slice([0, M - 1, 0], [B, N, -1]), 'ar.head_info', zI, dI);
      const logRed = affine(h.slice([0, M + N - 1, 0], [B, 1, -1]), 'ar.head_red', zR, d - dI);
      const explicit = await logInfo.add(logRed).add(logdet).data();
      const engine = await analyzeForward(m, x, labels).logPx.data();
      for (let b = 0; b < B; b++) expect(engine[b]).toBeCloseTo(explicit[b], 3);
    });
  }
});
