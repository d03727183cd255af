// `farmer train`: Eq. 14 with AdamW, cosine schedule, clipping, EMA; resumable checkpoints.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { setupBackend } from '../common';
import { meanOfLast50, runStepLoop } from '../step-loop';
import { readRunOptions } from '../run-options';
import { curveSummary } from '../../lib/train/curve';
import { parseConfig } from '../../lib/farmer/config';
import { initParams } from '../../lib/farmer/params';
import { countParams } from '../../lib/nn/params';
import { loadDataset } from '../../node/datasets';
import { trainingSigma } from '../../lib/data/dequantize';
import {
  defaultTrainOptions,
  disposeTrainState,
  exportParams,
  newTrainState,
  trainOneStep,
  type StepLog,
  type TrainOptions,
  type TrainState,
} from '../../lib/train/loop';
import { decodeTrainState, encodeTrainState } from '../../lib/train/state-file';
import { saveCheckpointAsync, type Card } from '../../lib/io/checkpoint';
import { loadModel, readBytes, writeBytes } from '../../node/files';
import { startGradientThreads } from '../../node/train-workers';

export const usage = `farmer train <config.json> --dataset mnist|colored-mnist --out model.safetensors [--resume | --init model]
        [--steps N] [--batch B] [--lr 1e-3] [--lr-min 1e-5] [--warmup 200] [--weight-decay 0.03]
        [--clip 1] [--ema 0.999] [--seed S] [--checkpoint-every 200] [--log-every 10] [--max-minutes M] [--stop-at N]
        [--workers 1]
  writes <out> (EMA weights + card), <out>.state.safetensors (resumable: weights, AdamW, EMA) and
  <out>.log.jsonl (one line per step: loss, nll_per_dim, logdet_per_dim, bpd, lr, grad_norm, images_per_s).
  --resume continues from <out>.state.safetensors exactly; --init <model> starts from trained weights with
  a fresh optimizer; --max-minutes stops cleanly after a checkpoint; --stop-at N stops after step N of the
  --steps schedule (a baseline cut at another run's step count, same learning rates up to there).
  --workers N computes each batch's gradient in N threads (one core each; this one and N − 1 worker
  threads), each on its share of the batch, and applies their average: the same run, N cores (wasm or cpu).`;

export async function run({ flags, json, out, log }: CommandContext): Promise<void> {
  const [configPath] = flags.positionals;
  const dataset = flags.dataset();
  const outPath = flags.required('out');
  const resume = flags.bool('resume');
  const initFrom = flags.str('init');
  const { steps, given, checkpointEvery, logEvery, maxMinutes } = readRunOptions(flags);
  const stopAt = flags.int('stop-at', undefined, { min: 1 });
  const workers = flags.int('workers', 1, { min: 1, max: 64 });
  const report = await setupBackend(flags);
  flags.finish();
  if (!configPath && !resume) throw new UsageError('missing <config.json>');
  const statePath = `${outPath}.state.safetensors`,
    logPath = `${outPath}.log.jsonl`;
  await mkdir(dirname(outPath), { recursive: true });

  let state: TrainState, options: TrainOptions, config;
  let history: StepLog[] = [];
  let initInfo: { source: string; steps: number } | null = null;
  if (resume) {
    if (!existsSync(statePath)) throw new Error(`--resume: no training state at ${statePath}`);
    const d = decodeTrainState(await readBytes(statePath, 'training state'), statePath);
    ({ config, state } = d);
    options = { ...d.options, ...given, ...(steps !== undefined ? { steps } : {}) };
    if (existsSync(logPath))
      history = (await readFile(logPath, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as StepLog)
        .filter((l) => l.step <= state.step);
    await writeFile(logPath, history.map((l) => JSON.stringify(l) + '\n').join(''));
    log(`resuming ${outPath} at step ${state.step}/${options.steps}`);
  } else {
    const text = await readFile(configPath, 'utf8').catch(() => {
      throw new Error(`config not found: ${configPath}`);
    });
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`${configPath}: not valid JSON (${(e as Error).message})`);
    }
    config = parseConfig(raw);
    if (steps === undefined) throw new UsageError('missing --steps');
    options = { ...defaultTrainOptions, ...given, steps };
    let params = initParams(config, { seed: options.seed });
    if (initFrom) {
      // Start from trained weights (e.g. a zoo file) with a fresh optimizer: a continuation, not an exact resume.
      const init = await loadModel(initFrom);
      if (JSON.stringify(init.config) !== JSON.stringify(config))
        throw new Error(`--init ${initFrom}: its config differs from ${configPath}`);
      for (const t of params.values()) t.dispose();
      params = init.params;
      initInfo = { source: init.source, steps: init.card.steps };
      log(`starting from the weights of ${init.source} (${init.card.steps} steps)`);
    }
    state = newTrainState(params, options);
  }
  if (workers > 1 && report.active !== 'wasm' && report.active !== 'cpu')
    throw new UsageError(
      `--workers shares a batch among CPU threads: use it with --backend wasm or cpu, not ${report.active}`,
    );
  if (workers > options.batch) throw new UsageError(`--workers ${workers} is more than the batch (${options.batch})`);
  if (!resume) await writeFile(logPath, '');
  const data = loadDataset(dataset, 'train');
  const { height, width, channels } = config.image;
  if (data.height !== height || data.width !== width || data.channels !== channels)
    throw new Error(
      `dataset ${dataset} has ${data.height}×${data.width}×${data.channels} images; the config wants ${height}×${width}×${channels}`,
    );
  if (config.num_classes > 0 && data.numClasses !== config.num_classes)
    throw new Error(`dataset ${dataset} has ${data.numClasses} classes; the config has ${config.num_classes}`);
  log(
    `training ${countParams(state.vars).toLocaleString('en-US')} parameters on ${dataset} (${data.n} images) with ${report.active}, batch ${options.batch}, ${options.steps} steps${workers > 1 ? `, ${workers} workers` : ''}`,
  );
  const helpers = workers > 1 ? await startGradientThreads(workers - 1, config, report.active) : undefined;

  const save = async () => {
    const dq = config.dequantization;
    const card: Card = {
      dataset,
      steps: state.step + (initInfo?.steps ?? 0),
      time_s: Math.round(state.timeS),
      seed: options.seed,
      metrics: {},
      // the σ of the last step trained, for the Tweedie step (sampling-settings.ts finalSigma)
      ...(dq.kind === 'gaussian' && state.step > 0
        ? { sampling: { sigma: trainingSigma(dq, (state.step - 1) / options.steps) } }
        : {}),
      train: {
        trainer: 'farmer train',
        device: report.active,
        world_size: workers,
        options,
        skipped_steps: state.skipped,
        last_bpd: history.at(-1)?.bpd ?? null,
        curve_bpd: curveSummary(history, (l) => l.bpd),
        ...(initInfo ? { init: initInfo } : {}),
      },
    };
    await writeBytes(outPath, await saveCheckpointAsync(config, exportParams(state), card));
    await writeBytes(statePath, await encodeTrainState(config, options, state));
  };
  try {
    await runStepLoop({
      name: 'train',
      steps: options.steps,
      stopAt,
      done: () => state.step,
      history,
      logPath,
      save,
      checkpointEvery,
      logEvery,
      maxMinutes,
      json,
      log,
      step: () => trainOneStep(config, state, data, options, helpers),
      describe: (l) =>
        `step ${l.step} bpd ${l.bpd.toFixed(4)} lr ${l.lr.toExponential(2)} |g| ${l.grad_norm.toFixed(2)} ${l.images_per_s.toFixed(1)} img/s`,
    });
  } finally {
    await helpers?.dispose();
  }
  const summary = {
    out: outPath,
    steps: state.step,
    of: options.steps,
    time_s: state.timeS,
    skipped: state.skipped,
    last50_bpd: meanOfLast50(history, (l) => l.bpd),
    tensors: tf.memory().numTensors,
  };
  disposeTrainState(state);
  if (json) out(JSON.stringify(summary));
  else
    out(
      `${outPath}: step ${summary.steps}/${summary.of}, ${summary.time_s.toFixed(0)} s, mean bpd of the last 50 steps ${summary.last50_bpd?.toFixed(4)}`,
    );
}
