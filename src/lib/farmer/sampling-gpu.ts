// Unguided sampling of Z on the GPU (webgpu): the draws of every token happen in a kernel from
// noise the per-sample streams drew beforehand on the CPU (the numbers the CPU sampler would
// take, in its order), so nothing is downloaded until Z is complete. An AR step is the draw,
// the embedding read from the token buffer, three dispatches a layer and the norm + head.
import * as tf from '@tensorflow/tfjs';
import type { FarmerModel } from './model';
import { ArDecoder, arFlips, farmerPrior } from './prior';
import type { Rng } from '../util/random';
import { assembleLatent, drawTokenInto, drawTokens } from '../tf/webgpu/gmm-draw';
import { throwIfAborted } from '../util/abort';

export interface GpuDrawOptions {
  labels: Int32Array;
  T: number;
  s: number;
  TRed: number;
  sRed: number;
  onStep?: (done: number) => void;
  signal?: AbortSignal;
}

/**
 * Each sample's noise in the order its stream serves the CPU sampler: per informative token one
 * uniform (the component) and d_I normals, then per redundant vector one uniform and d_R normals.
 * Informative noise is laid out [N, B, 1 + d_I] (step-major, one slice a step), redundant [B, N, 1 + d_R].
 */
export function drawNoise(
  streams: Rng[],
  N: number,
  dI: number,
  dR: number,
): { informative: Float32Array; redundant: Float32Array } {
  const B = streams.length;
  const informative = new Float32Array(N * B * (1 + dI));
  const redundant = new Float32Array(B * N * (1 + dR));
  streams.forEach((rng, b) => {
    for (let i = 0; i < N; i++) {
      const at = (i * B + b) * (1 + dI);
      informative[at] = rng.uniform();
      for (let j = 1; j <= dI; j++) informative[at + j] = rng.normal();
    }
    for (let t = 0; t < N; t++) {
      const at = (b * N + t) * (1 + dR);
      redundant[at] = rng.uniform();
      for (let j = 1; j <= dR; j++) redundant[at + j] = rng.normal();
    }
  });
  return { informative, redundant };
}

/** Z [B, N, d] (raster token order) from the FARMER prior, drawn on the GPU; B = streams.length. */
export function drawLatentsGpu(model: FarmerModel, streams: Rng[], o: GpuDrawOptions): tf.Tensor3D {
  const p = farmerPrior(model.config);
  const { tokens: N, informative: dI, redundant: dR } = model.dims;
  const B = streams.length;
  const noise = drawNoise(streams, N, dI, dR);
  const noiseI = tf.tensor1d(noise.informative);
  const decoder = new ArDecoder(model.params, model.config, B);
  let tokens = tf.zeros([B, N, dI]) as tf.Tensor3D; // informative tokens in AR order, drawn into in place
  let head: tf.Tensor2D | null = null;
  try {
    head = decoder.start(o.labels);
    for (let i = 0; i < N; i++) {
      const drawn = drawTokenInto(tokens, head, noiseI, i * B * (1 + dI), i, {
        K: p.mixtures_informative,
        d: dI,
        T: o.T,
        s: o.s,
      });
      tokens.dispose();
      tokens = drawn;
      head.dispose();
      head = decoder.feedFrom(tokens, i); // G_{i+2}, or G_R after the last token
      o.onStep?.(i + 1);
      throwIfAborted(o.signal, 'sampling cancelled');
    }
    return tf.tidy(() => {
      const red =
        dR > 0
          ? drawTokens(head!, tf.tensor3d(noise.redundant, [B, N, 1 + dR]), N, {
              K: p.mixtures_redundant,
              d: dR,
              T: o.TRed,
              s: o.sRed,
            })
          : null;
      return assembleLatent(tokens, red, arFlips(model.config));
    });
  } finally {
    tf.dispose([noiseI, tokens, ...(head ? [head] : [])]);
    decoder.dispose();
  }
}
