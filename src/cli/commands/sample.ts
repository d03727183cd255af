import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { inChunks, openModel, progressBar, setupBackend } from '../common';
import { modelToPixels } from '../../lib/data/dequantize';
import { writeBytes } from '../../node/files';
import { writeNpy } from '../../lib/io/npy';
import { encodePng, imageGrid } from '../../lib/io/png';
import { sample, type CfgMethod } from '../../lib/farmer/sampling';
import { TABLE6_PRESET, type ResamplingParams } from '../../lib/farmer/guidance';

/** `T_pi=1,T_sigma=0.9,…`: Algorithm 1's knobs over the Table 6 preset. */
function parseCfgParams(text: string | undefined): Partial<ResamplingParams> {
  if (!text) return {};
  const out: Partial<ResamplingParams> = {};
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    if (!(key in TABLE6_PRESET)) throw new UsageError(`--cfg-params: unknown knob "${key}" (known: ${Object.keys(TABLE6_PRESET).join(', ')})`);
    const v = Number(value);
    const integer = key === 's_c' || key === 's_u';
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
      throw new UsageError(`--cfg-params: ${key} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
    out[key as keyof ResamplingParams] = v;
  }
  return out;
}

export const usage = `farmer sample <model> --n N [--T t --s s --T-red t --s-red s] [--class y --cfg w
        --cfg-method naive|resampling --cfg-params T_pi=1,T_sigma=0.9,s_c=5,s_u=5,T_pi_v=0.2,T_sigma_v=0.9,T_s=1.1]
        [--attn-temp a] [--denoise] [--seed S] [--batch B] --out samples.npy|.png [--json]
  decoupled sampling: mixture temperature T (softmax(logits/T)) and Gaussian scale s (multiplies σ);
  .npy output is uint8 [N,H,W,C]; .png is a grid. Samples with NaN/Inf are reported, never hidden.`;

export const booleanFlags = ['denoise'];

export async function run({ flags, json, out, log }: CommandContext): Promise<void> {
  const [arg] = flags.positionals;
  const n = flags.int('n');
  if (n === undefined) throw new UsageError('missing --n');
  const outPath = flags.required('out');
  const seed = flags.int('seed', 0), batch = flags.int('batch', 64);
  const T = flags.num('T', 1), s = flags.num('s', 1);
  const TRed = flags.num('T-red', T), sRed = flags.num('s-red', s);
  const cls = flags.int('class'), w = flags.num('cfg');
  const method = flags.str('cfg-method', 'resampling');
  const cfgParams = parseCfgParams(flags.str('cfg-params'));
  const attnTemp = flags.num('attn-temp', 1);
  const denoise = flags.bool('denoise');
  const report = await setupBackend(flags);
  flags.finish();
  if (n < 1) throw new UsageError('--n must be ≥ 1');
  if (batch < 1) throw new UsageError('--batch must be ≥ 1');
  for (const [name, v] of [['T', T], ['s', s], ['T-red', TRed], ['s-red', sRed], ['attn-temp', attnTemp]] as const)
    if (!(v > 0)) throw new UsageError(`--${name} must be > 0`);
  if (method !== 'naive' && method !== 'resampling') throw new UsageError(`--cfg-method must be naive or resampling, got "${method}"`);
  if (w !== undefined && cls === undefined) throw new UsageError('--cfg needs --class');
  if (Object.keys(cfgParams).length && (w === undefined || method !== 'resampling')) throw new UsageError('--cfg-params needs --cfg w with --cfg-method resampling');
  const png = outPath.endsWith('.png');
  if (!png && !outPath.endsWith('.npy')) throw new UsageError('--out must end in .npy or .png');
  const { model } = await openModel(arg);
  const c = model.config;
  if (cls !== undefined && (cls < 0 || cls >= c.num_classes))
    throw new UsageError(c.num_classes === 0 ? 'this model is unconditional: --class is not allowed' : `--class must be in [0, ${c.num_classes - 1}]`);

  const { height: H, width: W, channels: C } = c.image;
  const pixels = new Uint8Array(n * H * W * C);
  const finite: boolean[] = [];
  let fallbacks = 0;
  const bar = progressBar('sample', n);
  const t0 = performance.now();
  await inChunks(n, batch, async (start, count) => {
    const r = await sample(model, {
      n: count,
      seed: seed + start, // chunk streams: the chunk starting at sample i uses seed + i
      labels: cls === undefined ? null : new Int32Array(count).fill(cls),
      T, s, TRed, sRed, attnTemp, denoise,
      cfg: w === undefined ? undefined : { method: method as CfgMethod, w, params: cfgParams },
    });
    pixels.set(modelToPixels(await r.images.data(), c.dequantization), start * H * W * C);
    finite.push(...r.finite);
    fallbacks += r.cfgFallbacks;
    r.images.dispose();
    r.z.dispose();
    bar.tick(start + count);
  });
  bar.end();
  const seconds = (performance.now() - t0) / 1000;
  const bad = finite.flatMap((ok, i) => (ok ? [] : [i]));
  await writeBytes(outPath, png ? encodePng(imageGrid(pixels, n, H, W, C, Math.ceil(Math.sqrt(n)), 2, 0)) : writeNpy(pixels, [n, H, W, C]));
  if (json) {
    out(JSON.stringify({ out: outPath, n, seed, backend: report.active, T, s, T_red: TRed, s_red: sRed, class: cls ?? null, cfg: w ?? null, cfg_method: w === undefined ? null : method, cfg_params: w !== undefined && method === 'resampling' ? { ...TABLE6_PRESET, ...cfgParams } : null, non_finite: bad, cfg_fallbacks: fallbacks, seconds }));
    return;
  }
  out(`${n} samples → ${outPath} (${seconds.toFixed(1)} s on ${report.active}, seed ${seed})`);
  if (bad.length) log(`warning: ${bad.length} sample(s) contain NaN or Inf (written as 0): ${bad.join(', ')}`);
  if (fallbacks) log(`naive CFG: ${fallbacks} dimension draws fell back to the conditional sample`);
}
