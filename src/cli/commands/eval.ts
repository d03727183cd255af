// `farmer eval`: BPD on dequantized test images and FID / IS / precision–recall of samples,
// through the dataset's feature network (never Inception; every figure says so).
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { openModel, progressBar, setupBackend } from '../common';
import { loadDataset } from '../../node/datasets';
import { featureNetPath, loadFeatureNetFile } from '../../node/feature-net';
import type { FeatureNet } from '../../lib/metrics/features';
import { evaluateModel, featureNetName, type EvalPhase, type EvalResult } from '../../lib/metrics/evaluate-model';
import { cardSampling, resolveSampling } from '../../lib/farmer/sampling-settings';

export const usage = `farmer eval <model> --dataset mnist|colored-mnist [--split test] [--bpd] [--fid] [--is] [--pr]
        [--n 1000] [--n-bpd n] [--seed S] [--batch B] [--bpd-labels] [--k 3] [--features net.safetensors]
        [--T t --s s --T-red t --s-red s] [--cfg w --cfg-method naive|resampling] [--sample-labels cycling|null]
        [--denoise | --no-denoise] [--json]
  --bpd   mean of (L + ln 128)/ln 2 over the first n test images, uniformly dequantized with
          Rng(seed) in order (as \`farmer forward --images --seed\`); the null label unless
          --bpd-labels (then log p(x|y) with the test labels); --n-bpd sets that count apart from n
  --fid --is --pr  n samples (labels cycling 0..C−1 for conditional models; sample i drawn from Rng(mixSeed(seed, i)) at any --batch)
          against the first n test images, features of the dataset's feature network
          (static/models/features-<dataset>.safetensors, or --features). Not Inception features.
          With --is also: the share of samples the network classifies with top probability ≥ 0.9
          (beside the same share of the test images), and for conditional models the share it
          reads as the label the sample was drawn for (class agreement).
  --sample-labels null  samples of a conditional model drawn with the null label (no class agreement)
  --batch  images per forward pass, sampling call and feature batch; default 64 (features 250), and
          on webgpu as many as the adapter's buffer limit and a 1 GiB budget allow (same results)
  Sampling starts from the card's recommended settings (card.sampling), as \`farmer sample\` does;
  every option given overrides them. No metric flag: every metric that applies. Samples with
  NaN/Inf are left out and counted.`;

export const booleanFlags = ['bpd-labels', 'denoise', 'no-denoise'];

function phaseBars(log: (l: string) => void, quiet: boolean) {
  let current: { phase: EvalPhase; bar: ReturnType<typeof progressBar> } | null = null;
  const names: Record<EvalPhase, string> = { bpd: 'bpd', sample: 'sample', features: 'features' };
  return {
    onProgress(phase: EvalPhase, done: number, total: number) {
      if (current?.phase !== phase) {
        current?.bar.end();
        current = { phase, bar: progressBar(names[phase], total) };
        if (!process.stderr.isTTY && !quiet)
          log(`${names[phase]}: ${phase === 'features' ? 'FID / IS / precision–recall' : `${total} images`}…`);
      }
      current.bar.tick(done);
    },
    end() {
      current?.bar.end();
    },
  };
}

function printText(r: EvalResult, out: (l: string) => void, log: (l: string) => void): void {
  const row = (name: string, value: string, note = '') => out(`${name.padEnd(52)} ${value.padStart(9)}  ${note}`);
  if (r.bpd) {
    const labels = r.bpd.labels === 'test' ? 'test labels' : r.bpd.labels === 'null' ? 'null label' : 'unconditional';
    row(
      'BPD (uniform dequantization)',
      r.bpd.value.toFixed(4),
      `n = ${r.bpd.n} test images, ${labels}, seed ${r.bpd.seed}`,
    );
    if (r.bpd.non_finite)
      log(`warning: ${r.bpd.non_finite} test image(s) had a non-finite BPD and are left out of the mean`);
  }
  if (r.sampling) {
    const s = r.sampling;
    row(
      'sampling',
      `${s.seconds.toFixed(1)} s`,
      `${s.n} samples, ${s.images_per_s.toFixed(2)} images/s, ${s.non_finite} non-finite, labels ${s.labels}`,
    );
    if (s.non_finite)
      log(
        `warning: ${s.non_finite} sample(s) contain NaN or Inf and are left out of the metrics: ${s.non_finite_indices.join(', ')}`,
      );
    if (s.cfg_fallbacks) log(`naive CFG: ${s.cfg_fallbacks} dimension draws fell back to the conditional sample`);
  }
  if (r.fid) row(r.fid.label, r.fid.value.toFixed(3), `${r.fid.n_fake} samples vs ${r.fid.n_real} test images`);
  if (r.is) row(r.is.label, r.is.value.toFixed(3), `± ${r.is.std.toFixed(3)}, ${r.is.n_fake} samples`);
  if (r.precision)
    row(
      r.precision.label,
      r.precision.value.toFixed(4),
      `${r.precision.n_fake} samples vs ${r.precision.n_real} test images`,
    );
  if (r.recall)
    row(r.recall.label, r.recall.value.toFixed(4), `${r.recall.n_fake} samples vs ${r.recall.n_real} test images`);
  if (r.confident) {
    row(
      r.confident.label,
      r.confident.value.toFixed(4),
      `${r.confident.n_fake} samples; test images ${r.confident.test_value.toFixed(4)}`,
    );
    const total = r.confident.classes.reduce((a, b) => a + b, 0);
    const shares = r.confident.classes.map((c, j) => `${j}: ${total ? ((100 * c) / total).toFixed(1) : '–'} %`);
    row('classes of the confident samples', shares.join(', '), `${total} samples`);
  }
  if (r.class_agreement)
    row(r.class_agreement.label, r.class_agreement.value.toFixed(4), `${r.class_agreement.n_fake} samples`);
  for (const note of r.notes) log(`note: ${note}`);
}

export async function run({ flags, json, out, log }: CommandContext): Promise<void> {
  const [arg] = flags.positionals;
  const dataset = flags.dataset();
  const split = flags.str('split', 'test');
  let bpd = flags.bool('bpd'),
    fid = flags.bool('fid'),
    is = flags.bool('is'),
    pr = flags.bool('pr');
  const atLeast1 = { min: 1 },
    positive = { above: 0 };
  const n = flags.int('n', 1000, atLeast1),
    nBpd = flags.int('n-bpd', n, atLeast1),
    seed = flags.seed();
  const batch = flags.int('batch', undefined, atLeast1),
    k = flags.int('k', 3, atLeast1);
  const bpdWithLabels = flags.bool('bpd-labels');
  const featuresPath = flags.str('features');
  const T = flags.num('T', undefined, positive),
    s = flags.num('s', undefined, positive);
  const TRed = flags.num('T-red', undefined, positive),
    sRed = flags.num('s-red', undefined, positive);
  const w = flags.num('cfg', undefined, { min: 0 });
  const method =
    flags.str('cfg-method') === undefined
      ? undefined
      : flags.choice('cfg-method', ['naive', 'resampling'] as const, 'resampling');
  const sampleLabels = flags.choice('sample-labels', ['cycling', 'null'] as const, 'cycling');
  const [on, off] = [flags.bool('denoise'), flags.bool('no-denoise')];
  const report = await setupBackend(flags);
  flags.finish();
  if (flags.positionals.length > 1) throw new UsageError(`unexpected argument "${flags.positionals[1]}"`);
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, got "${split}"`);
  if (on && off) throw new UsageError('give --denoise or --no-denoise, not both');
  if (sampleLabels === 'null' && w) throw new UsageError('--cfg needs class labels: drop --sample-labels null');

  const { model, source, card } = await openModel(arg);
  const c = model.config;
  const settings = resolveSampling(c, cardSampling(card), {
    T,
    s,
    TRed,
    sRed,
    cfg: w,
    cfgMethod: method,
    denoise: on ? true : off ? false : undefined,
    labels: c.num_classes > 0 && sampleLabels === 'cycling' ? 'class' : 'null',
  });
  if (!bpd && !fid && !is && !pr) {
    bpd = !c.student;
    fid = is = pr = true;
  }
  if (bpd && c.student)
    throw new Error(`${source} is a distilled student: it has no likelihood, so evaluate --bpd on its teacher`);
  let net: FeatureNet | null = null;
  const netFile = featuresPath ?? featureNetPath(dataset);
  if (fid || is || pr) {
    try {
      net = loadFeatureNetFile(netFile);
    } catch (e) {
      const hint = featuresPath
        ? ''
        : ` (train one with \`npx tsx scripts/train-classifier.ts --dataset ${dataset}\`, or pass --features)`;
      throw new Error(`no usable feature network for ${dataset}: ${(e as Error).message}${hint}`);
    }
  }
  const test = loadDataset(dataset, split);
  if (test.height !== c.image.height || test.width !== c.image.width || test.channels !== c.image.channels)
    throw new Error(
      `dataset ${dataset} has ${test.height}×${test.width}×${test.channels} images; ${source} models ${c.image.height}×${c.image.width}×${c.image.channels}`,
    );
  if (c.num_classes > 0 && c.num_classes !== test.numClasses)
    throw new Error(`dataset ${dataset} has ${test.numClasses} classes; ${source} has num_classes = ${c.num_classes}`);
  for (const [name, v] of [
    ['n', n],
    ['n-bpd', nBpd],
  ] as const)
    if (v > test.n) throw new UsageError(`--${name} ${v} is more than the ${test.n} images of ${dataset}/${split}`);

  const featureName = net ? featureNetName(net) : null;
  if (!json)
    log(
      `eval ${source} on ${dataset}/${split}, n = ${n}, seed ${seed}, ${report.active}${net ? `, features ${featureName} (${netFile})` : ''}`,
    );

  const bars = phaseBars(log, json);
  const t0 = performance.now();
  let r: EvalResult;
  try {
    r = await evaluateModel(model, test, net, {
      bpd,
      fid,
      is,
      pr,
      n,
      nBpd,
      seed,
      batch,
      k,
      bpdWithLabels,
      featureName: featureName ?? undefined,
      sampling: {
        T: settings.T,
        s: settings.s,
        TRed: settings.TRed,
        sRed: settings.sRed,
        cfg: settings.cfg ?? undefined,
        cfgMethod: settings.cfgMethod,
        labels: sampleLabels,
        denoiseSigma: settings.denoiseSigma,
      },
      onProgress: bars.onProgress,
    });
  } finally {
    bars.end();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (json) {
    out(
      JSON.stringify({
        model: source,
        dataset,
        split,
        backend: report.active,
        n,
        n_bpd: bpd ? nBpd : null,
        seed,
        batch: batch ?? 'auto',
        feature_net: net ? { name: featureName, file: netFile, inception: false } : null,
        bpd: r.bpd,
        sampling: r.sampling,
        fid: r.fid,
        is: r.is,
        precision: r.precision,
        recall: r.recall,
        confident: r.confident,
        class_agreement: r.class_agreement,
        notes: r.notes,
        seconds,
      }),
    );
    return;
  }
  printText(r, out, log);
}
