// What a FARMER model's redundant channels hold, measured on MNIST test images (gray models):
// 1. swap: decode each image's latent with the redundant channels of the next image; mean absolute
//    pixel difference to its own image against the difference between the two images. Near 0: the
//    redundant channels carry little; near the second number: they carry the image.
// 2. components: for each token, the G_R component that explains its redundant vector best
//    (G_R from the AR prior given the image's own informative tokens), against whether the 4×4
//    patch is background (all pixels 0). Sampling draws components i.i.d. over positions, so a
//    component that means "stroke" lands anywhere.
// Run: npx tsx scripts/redundant-content.ts <model> [n]
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/tf/backend';
import { nodeHost } from '../src/node/backend';
import { loadModel } from '../src/node/files';
import { analyzeForward, decodeLatents, makeModel } from '../src/lib/farmer/model';
import { ArDecoder, arToken, farmerPrior } from '../src/lib/farmer/prior';
import { gmmFromRow } from '../src/lib/farmer/gmm';
import { nullLabels } from '../src/lib/farmer/labels';
import { loadMnist } from '../src/node/mnist';
import { dequantizeUniform } from '../src/lib/data/dequantize';
import { Rng } from '../src/lib/util/random';

const [modelArg, nArg] = process.argv.slice(2);
if (!modelArg) throw new Error('usage: npx tsx scripts/redundant-content.ts <model> [n]');
await selectBackend('wasm', { host: nodeHost, fallback: false });
const { config, params } = await loadModel(modelArg);
const model = makeModel(config, params);
if (config.prior.kind !== 'farmer' || config.image.channels !== 1 || config.image.height !== 28)
  throw new Error('a FARMER model of 28×28 gray images (MNIST) is needed');
const n = Number(nArg ?? 64);
const { tokens: N, tokenDim: d, informative: dI, redundant: dR } = model.dims;
const P = config.patch_size, cols = 28 / P;
const pixels = loadMnist('test').images.subarray(0, n * 784);
const x = tf.tensor4d(dequantizeUniform(pixels, new Rng(5)), [n, 28, 28, 1]);
const labels = nullLabels(n);
const a = analyzeForward(model, x, labels);
const z = (await a.z.data()) as Float32Array;

// 1. swap the redundant channels with the next image's
const swapped = new Float32Array(z);
for (let b = 0; b < n; b++)
  for (let t = 0; t < N; t++)
    for (let j = dI; j < d; j++) swapped[(b * N + t) * d + j] = z[(((b + 1) % n) * N + t) * d + j];
const zs = tf.tensor3d(swapped, [n, N, d]);
const xs = decodeLatents(model, zs, { labels });
const levels = (t: tf.Tensor) => (t.abs().mean().dataSync()[0] * 127.5).toFixed(1);
const next = tf.concat([x.slice(1), x.slice(0, 1)]);
console.log(`swap: own image to decoded-with-the-next-image's-redundant-channels ${levels(xs.sub(x))} pixel levels; own image to next image ${levels(x.sub(next))} (mean absolute difference, ${n} test images)`);

// 2. G_R components against background patches
const decoder = new ArDecoder(model.params, config, n);
let head = decoder.start(labels);
for (let i = 0; i < N; i++) {
  const t = arToken(config, i);
  const token = new Float32Array(n * dI);
  for (let b = 0; b < n; b++) token.set(z.subarray((b * N + t) * d, (b * N + t) * d + dI), b * dI);
  const tt = tf.tensor2d(token, [n, dI]);
  head.dispose();
  head = decoder.feed(tt);
  tt.dispose();
}
const out = (await head.data()) as Float32Array;
head.dispose();
decoder.dispose();
const K = farmerPrior(config).mixtures_redundant;
const counts = Array.from({ length: K }, () => ({ stroke: 0, background: 0 }));
for (let b = 0; b < n; b++) {
  const g = gmmFromRow(out, b, K, dR);
  for (let t = 0; t < N; t++) {
    const r0 = Math.floor(t / cols) * P, c0 = (t % cols) * P;
    let background = true;
    for (let y = 0; y < P; y++) for (let c = 0; c < P; c++) if (pixels[b * 784 + (r0 + y) * 28 + c0 + c] > 0) background = false;
    let best = 0, bestLog = -Infinity;
    for (let k = 0; k < K; k++) {
      let v = g.logits[k];
      for (let j = 0; j < dR; j++) {
        const s = g.sigmas[k * dR + j], u = (z[(b * N + t) * d + dI + j] - g.means[k * dR + j]) / s;
        v += -0.5 * u * u - Math.log(s);
      }
      if (v > bestLog) [bestLog, best] = [v, k];
    }
    counts[best][background ? 'background' : 'stroke']++;
  }
}
const total = n * N;
const pBg = counts.reduce((s, c) => s + c.background, 0) / total;
let mutual = 0;
for (const [k, c] of counts.entries()) {
  const nk = c.stroke + c.background;
  if (nk === 0) continue;
  for (const [m, p] of [[c.background, pBg], [c.stroke, 1 - pBg]]) if (m > 0) mutual += (m / total) * Math.log2(m / total / ((nk / total) * p));
  console.log(`G_R component ${String(k).padStart(2)}: ${String(nk).padStart(5)} tokens, ${((100 * c.background) / nk).toFixed(0).padStart(3)}% background patches`);
}
const entropy = -(pBg * Math.log2(pBg) + (1 - pBg) * Math.log2(1 - pBg));
console.log(`background patches ${(100 * pBg).toFixed(1)}%; the best component carries ${mutual.toFixed(3)} of the ${entropy.toFixed(3)} bits of "background or stroke"`);
tf.dispose([x, zs, xs, next]);
