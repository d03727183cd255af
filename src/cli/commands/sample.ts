import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { openModel, progressBar, setupBackend } from '../common';
import { writeBytes } from '../../node/files';
import { writeNpy } from '../../lib/io/npy';
import { encodePng, imageGrid } from '../../lib/io/png';
import { sampleBatches, sampleSteps } from '../../lib/farmer/sample-batches';
import { cyclingLabels } from '../../lib/farmer/labels';
import { chooseWidth } from '../../lib/tf/batch-width';
import { samplingFootprint } from '../../lib/farmer/footprint';
import { TABLE6_PRESET, type ResamplingParams } from '../../lib/farmer/guidance';
import { cardSampling, resolveSampling } from '../../lib/farmer/sampling-settings';

/** `T_pi=1,T_sigma=0.9,…`: Algorithm 1's knobs over the Table 6 preset. */
function parseCfgParams(text: string | undefined): Partial<ResamplingParams> {
  if (!text) return {};
  const out: Partial<ResamplingParams> = {};
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    if (!(key in TABLE6_PRESET))
      throw new UsageError(`--cfg-params: unknown knob "${key}" (known: ${Object.keys(TABLE6_PRESET).join(', ')})`);
    const v = Number(value);
    const integer = key === 's_c' || key === 's_u';
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
      throw new UsageError(`--cfg-params: ${key} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
    out[key as keyof ResamplingParams] = v;
  }
  return out;
}

export const usage = `farmer sample <model> --n N --out samples.npy|.png [--seed S] [--batch B]
        [--T t --s s --T-red t --s-red s] [--class y | --sample-labels cycling|null]
        [--cfg w --cfg-method naive|resampling --cfg-params T_pi=1,T_sigma=0.9,s_c=5,s_u=5,T_pi_v=0.2,T_sigma_v=0.9,T_s=1.1]
        [--denoise | --no-denoise] [--attn-temp a] [--json]
  decoupled sampling: mixture temperature T (softmax(logits/T)) and Gaussian scale s (multiplies σ).
  Starts from the model card's recommended settings (card.sampling: T, s, T_R, s_R, denoise,
  cfg_method, cfg); every option given overrides them; without either T = s = 1.
  Class-conditional models: samples cycle through the classes 0…C−1, or all ask for --class y,
  guided by the card's cfg unless --cfg says otherwise (--cfg 0: unguided); --sample-labels null
  draws unguided from the null label. Gaussian-dequantized models are denoised (Tweedie step with
  the σ of their last training step) unless --no-denoise.
  .npy output is uint8 [N,H,W,C]; .png is a grid. Samples with NaN/Inf are reported, never hidden.
  --batch: samples per call; default 64, and on webgpu as many as the adapter's buffer limit and a
  1 GiB budget allow. Sample i draws from Rng(mixSeed(S, i)) (as eval and the notebooks), so the
  batch never changes the samples.`;

export const booleanFlags = ['denoise', 'no-denoise'];

export async function run({ flags, json, out, log }: CommandContext): Promise<void> {
  const [arg, extra] = flags.positionals;
  const n = flags.int('n', undefined, { min: 1 });
  if (n === undefined) throw new UsageError('missing --n');
  const outPath = flags.required('out');
  const seed = flags.seed();
  const batchFlag = flags.int('batch', undefined, { min: 1 });
  const positive = { above: 0 };
  const T = flags.num('T', undefined, positive),
    s = flags.num('s', undefined, positive);
  const TRed = flags.num('T-red', undefined, positive),
    sRed = flags.num('s-red', undefined, positive);
  const cls = flags.int('class', undefined, { min: 0 });
  const sampleLabels = flags.choice('sample-labels', ['cycling', 'null'] as const, 'cycling');
  const w = flags.num('cfg', undefined, { min: 0 });
  const method =
    flags.str('cfg-method') === undefined
      ? undefined
      : flags.choice('cfg-method', ['naive', 'resampling'] as const, 'resampling');
  const cfgParams = parseCfgParams(flags.str('cfg-params'));
  const attnTemp = flags.num('attn-temp', 1, positive);
  const [on, off] = [flags.bool('denoise'), flags.bool('no-denoise')];
  const report = await setupBackend(flags);
  flags.finish();
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  if (on && off) throw new UsageError('give --denoise or --no-denoise, not both');
  if (cls !== undefined && flags.str('sample-labels') !== undefined)
    throw new UsageError('give --class or --sample-labels, not both');
  const png = outPath.endsWith('.png');
  if (!png && !outPath.endsWith('.npy')) throw new UsageError('--out must end in .npy or .png');
  const { model, card } = await openModel(arg);
  const c = model.config;
  if (cls !== undefined && cls >= c.num_classes)
    throw new UsageError(
      c.num_classes === 0
        ? 'this model is unconditional: --class is not allowed'
        : `--class must be in [0, ${c.num_classes - 1}]`,
    );
  const withClasses = c.num_classes > 0 && sampleLabels === 'cycling';
  const settings = resolveSampling(c, cardSampling(card), {
    T,
    s,
    TRed,
    sRed,
    cfg: w,
    cfgMethod: method,
    denoise: on ? true : off ? false : undefined,
    labels: withClasses ? 'class' : 'null',
  });
  if (Object.keys(cfgParams).length && (settings.cfg === null || settings.cfgMethod !== 'resampling'))
    throw new UsageError('--cfg-params needs resampling guidance (--cfg w, or a card that recommends it)');
  const batch = batchFlag ?? chooseWidth(n, 64, samplingFootprint(c, settings.denoiseSigma !== null));
  const labelsOf = (start: number, count: number) =>
    !withClasses
      ? null
      : cls !== undefined
        ? new Int32Array(count).fill(cls)
        : cyclingLabels(count, c.num_classes, start);

  const { height: H, width: W, channels: C } = c.image;
  const bar = progressBar('sample', n);
  const steps = sampleSteps(model);
  const t0 = performance.now();
  const {
    pixels,
    finite,
    cfgFallbacks: fallbacks,
  } = await sampleBatches(model, {
    n,
    batch,
    seed,
    labels: labelsOf,
    T: settings.T,
    s: settings.s,
    TRed: settings.TRed,
    sRed: settings.sRed,
    attnTemp,
    denoiseSigma: settings.denoiseSigma,
    cfg: settings.cfg === null ? undefined : { method: settings.cfgMethod, w: settings.cfg, params: cfgParams },
    onProgress: (done) => bar.tick(Math.floor(done / steps)),
  });
  bar.end();
  const seconds = (performance.now() - t0) / 1000;
  const bad = finite.flatMap((ok, i) => (ok ? [] : [i]));
  await writeBytes(
    outPath,
    png ? encodePng(imageGrid(pixels, n, H, W, C, Math.ceil(Math.sqrt(n)), 2, 0)) : writeNpy(pixels, [n, H, W, C]),
  );
  const labels = !withClasses ? 'null' : cls !== undefined ? `class ${cls}` : `cycling 0..${c.num_classes - 1}`;
  const guided = settings.cfg !== null;
  if (json) {
    out(
      JSON.stringify({
        out: outPath,
        n,
        seed,
        batch,
        backend: report.active,
        T: settings.T,
        s: settings.s,
        T_red: settings.TRed,
        s_red: settings.sRed,
        labels,
        class: cls ?? null,
        cfg: settings.cfg,
        cfg_method: guided ? settings.cfgMethod : null,
        cfg_params: guided && settings.cfgMethod === 'resampling' ? { ...TABLE6_PRESET, ...cfgParams } : null,
        denoise_sigma: settings.denoiseSigma,
        card_sampling: card.sampling ?? null,
        non_finite: bad,
        cfg_fallbacks: fallbacks,
        seconds,
      }),
    );
    return;
  }
  const knobs = `T ${settings.T}, s ${settings.s}${settings.TRed !== settings.T || settings.sRed !== settings.s ? `, T_R ${settings.TRed}, s_R ${settings.sRed}` : ''}`;
  const guidance = guided ? `, ${settings.cfgMethod} CFG w = ${settings.cfg}` : '';
  const denoised = settings.denoiseSigma !== null ? `, denoised (σ ${settings.denoiseSigma})` : '';
  out(
    `${n} samples → ${outPath} (${seconds.toFixed(1)} s on ${report.active}, seed ${seed}; labels ${labels}, ${knobs}${guidance}${denoised})`,
  );
  if (bad.length) log(`warning: ${bad.length} sample(s) contain NaN or Inf (written as 0): ${bad.join(', ')}`);
  if (fallbacks) log(`naive CFG: ${fallbacks} dimension draws fell back to the conditional sample`);
}
