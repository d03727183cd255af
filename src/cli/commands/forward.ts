import * as tf from '@tensorflow/tfjs';
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { inChunks, openModel, setupBackend } from '../common';
import { readNpyFile, writeBytes } from '../../node/files';
import { writeNpy } from '../../lib/io/npy';
import { analyzeForward, bitsPerDim, disposeAnalysis } from '../../lib/farmer/model';
import { dequantizeUniform } from '../../lib/data/dequantize';
import { Rng } from '../../lib/util/random';

export const usage = `farmer forward <model> (--images u8.npy | --inputs f32.npy) [--labels i.npy] [--seed S]
        [--latents out.npy] [--batch B] [--json]
  per image: logdet (total, per block), log_prior, log_px, nll_per_dim (nats), bpd.
  --images: uint8 [B,H,W,C] (or [B,H,W] for one channel), uniformly dequantized with --seed (default 0)
  --inputs: model-space float32 [B,H,W,C], used as they are
  --labels: int32/int64 [B], −1 = null label; a conditional model without labels uses the null label`;

export async function run({ flags, json, out, log }: CommandContext): Promise<void> {
  const [arg] = flags.positionals;
  const imagesPath = flags.str('images'),
    inputsPath = flags.str('inputs');
  const labelsPath = flags.str('labels'),
    latentsPath = flags.str('latents');
  const seed = flags.int('seed', 0),
    batch = flags.int('batch', 64);
  await setupBackend(flags);
  flags.finish();
  if (!imagesPath === !inputsPath) throw new UsageError('give exactly one of --images and --inputs');
  if (batch < 1) throw new UsageError('--batch must be ≥ 1');
  const { model } = await openModel(arg);
  const { height: H, width: W, channels: C } = model.config.image;

  const arr = await readNpyFile((imagesPath ?? inputsPath)!);
  const shape = arr.shape.length === 3 && C === 1 ? [...arr.shape, 1] : arr.shape;
  if (shape.length !== 4 || shape[1] !== H || shape[2] !== W || shape[3] !== C)
    throw new Error(`${imagesPath ?? inputsPath}: expected shape [B, ${H}, ${W}, ${C}], got [${arr.shape.join(', ')}]`);
  const B = shape[0];
  let x: Float32Array;
  if (imagesPath) {
    if (arr.dtype !== '|u1')
      throw new Error(`${imagesPath}: --images must be uint8 (|u1), got ${arr.dtype}; use --inputs for float32`);
    x = dequantizeUniform(arr.data, new Rng(seed));
  } else {
    if (!(arr.data instanceof Float32Array))
      throw new Error(`${inputsPath}: --inputs must be float32, got ${arr.dtype}`);
    x = arr.data;
    const bad = x.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${inputsPath}: value ${bad} is ${x[bad]}; inputs must be finite`);
  }
  let labels: Int32Array | null = null;
  if (labelsPath) {
    const l = await readNpyFile(labelsPath);
    if (!(l.data instanceof Int32Array))
      throw new Error(`${labelsPath}: labels must be int32 or int64, got ${l.dtype}`);
    if (l.shape.length !== 1 || l.shape[0] !== B)
      throw new Error(`${labelsPath}: expected shape [${B}], got [${l.shape.join(', ')}]`);
    if (model.config.num_classes === 0)
      throw new Error(`${labelsPath}: labels given to an unconditional model (num_classes = 0)`);
    labels = l.data;
  }

  const { tokens: N, tokenDim: d } = model.dims;
  const latents = latentsPath ? new Float32Array(B * N * d) : null;
  const images: object[] = [];
  await inChunks(B, batch, async (start, count) => {
    const xb = tf.tensor4d(x.subarray(start * H * W * C, (start + count) * H * W * C), [count, H, W, C]);
    const a = analyzeForward(model, xb, labels ? labels.subarray(start, start + count) : null);
    xb.dispose();
    const [logdet, perBlock, logPrior, logPx, nll] = await Promise.all(
      [a.logdet, a.logdetPerBlock, a.logPrior, a.logPx, a.nllPerDim].map((t) => t.data()),
    );
    if (latents) latents.set(await a.z.data(), start * N * d);
    disposeAnalysis(a);
    const n = model.config.af.blocks;
    for (let i = 0; i < count; i++)
      images.push({
        logdet_total: logdet[i],
        logdet_per_block: Array.from(perBlock.subarray(i * n, (i + 1) * n)),
        log_prior: logPrior[i],
        log_px: logPx[i],
        nll_per_dim: nll[i],
        bpd: bitsPerDim(nll[i]),
      });
    if (!json && B > batch) log(`forward: ${start + count}/${B}`);
  });
  if (latents) await writeBytes(latentsPath!, writeNpy(latents, [B, N, d]));
  if (json) {
    out(JSON.stringify({ images }));
    return;
  }
  out('image   logdet      log_prior   log_px      nll/dim   bpd');
  images.forEach((r, i) => {
    const o = r as { logdet_total: number; log_prior: number; log_px: number; nll_per_dim: number; bpd: number };
    out(
      `${String(i).padEnd(7)} ${o.logdet_total.toFixed(3).padStart(10)} ${o.log_prior.toFixed(3).padStart(11)} ${o.log_px.toFixed(3).padStart(11)} ${o.nll_per_dim.toFixed(4).padStart(9)} ${o.bpd.toFixed(4).padStart(7)}`,
    );
  });
  const mean = images.reduce((s, r) => s + (r as { bpd: number }).bpd, 0) / images.length;
  out(`mean bpd ${mean.toFixed(4)} over ${images.length} images`);
  if (latentsPath) out(`latents [${B}, ${N}, ${d}] → ${latentsPath}`);
}
