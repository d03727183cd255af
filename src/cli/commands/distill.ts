// `farmer distill`: Algorithm 2 (docs/model.md, "One-step distillation"), the one-step student of a teacher, with AdamW, a
// JSONL log and resumable state, in the same files and format as `farmer train`.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { setupBackend } from '../common';
import { meanOfLast50, runStepLoop } from '../step-loop';
import { readRunOptions } from '../run-options';
import { loadCheckpoint, saveCheckpointAsync, type Card } from '../../lib/io/checkpoint';
import { readBytes, readModelFile, writeBytes } from '../../node/files';
import { makeModel } from '../../lib/farmer/model';
import { countParams } from '../../lib/nn/params';
import { studentConfig } from '../../lib/farmer/distill';
import { loadDataset } from '../../node/datasets';
import { datasetInfo } from '../../lib/data/datasets';
import { disposeTrainState, type TrainOptions, type TrainState } from '../../lib/train/loop';
import { decodeTrainState, encodeTrainState } from '../../lib/train/state-file';
import {
  defaultDistillOptions,
  distillOneStep,
  lossCurve,
  newDistillState,
  studentModelParams,
  type DistillLog,
} from '../../lib/train/distill-loop';

export const usage = `farmer distill <teacher> --out student.safetensors [--dataset mnist] [--resume]
        [--steps N] [--batch 32] [--lr 3e-4] [--lr-min 1e-5] [--warmup 50] [--weight-decay 0]
        [--clip 1] [--ema 0] [--seed S] [--checkpoint-every 200] [--log-every 10] [--max-minutes M] [--json]
  Algorithm 2: a bidirectional student initialised from the teacher's AF learns, block by block,
  to map the teacher's forward latents of training images (plus s·ε, s ~ U[0, 0.3]) back in one
  pass. Writes <out> (student af.* + the teacher's ar.* prior, config.student = true, so
  \`farmer sample <out>\` runs in one AF pass), <out>.state.safetensors (resumable) and
  <out>.log.jsonl (step, loss, lr, grad_norm, images_per_s). --dataset defaults to the teacher's.`;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export async function run({ flags, json, out, log }: CommandContext): Promise<void> {
  const [teacherArg] = flags.positionals;
  const outPath = flags.required('out');
  const datasetFlag = flags.str('dataset');
  const resume = flags.bool('resume');
  const { steps, given, checkpointEvery, logEvery, maxMinutes } = readRunOptions(flags);
  const report = await setupBackend(flags);
  flags.finish();
  if (!teacherArg) throw new UsageError('missing <teacher>: a .safetensors path or a zoo name');
  if (flags.positionals.length > 1) throw new UsageError(`unexpected argument "${flags.positionals[1]}"`);
  if (!outPath.endsWith('.safetensors')) throw new UsageError('--out must end in .safetensors');

  const file = await readModelFile(teacherArg);
  const teacherSha = sha256(file.bytes);
  const loaded = loadCheckpoint(file.bytes, file.source);
  if (loaded.config.student) throw new Error(`${file.source} is already a distilled student; give its teacher`);
  const teacher = makeModel(loaded.config, loaded.params);
  const statePath = `${outPath}.state.safetensors`,
    logPath = `${outPath}.log.jsonl`;
  await mkdir(dirname(outPath), { recursive: true });
  let state: TrainState, options: TrainOptions;
  let history: DistillLog[] = [];
  let resumedDataset: string | undefined;
  if (resume) {
    if (!existsSync(statePath)) throw new Error(`--resume: no distillation state at ${statePath}`);
    const d = decodeTrainState(await readBytes(statePath, 'distillation state'), statePath);
    if (d.extra.teacher_sha256 !== teacherSha)
      throw new Error(
        `--resume: ${statePath} was distilled from another teacher (sha256 ${String(d.extra.teacher_sha256).slice(0, 12)}…, ${file.source} is ${teacherSha.slice(0, 12)}…)`,
      );
    if (JSON.stringify(d.config) !== JSON.stringify(studentConfig(teacher.config)))
      throw new Error(`--resume: ${statePath} holds another configuration than the teacher's`);
    state = d.state;
    resumedDataset = typeof d.extra.dataset === 'string' ? d.extra.dataset : undefined;
    options = { ...d.options, ...given, ...(steps !== undefined ? { steps } : {}) };
    if (existsSync(logPath))
      history = (await readFile(logPath, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as DistillLog)
        .filter((l) => l.step <= state.step);
    if (!json) log(`resuming ${outPath} at step ${state.step}/${options.steps}`);
  } else {
    if (steps === undefined) throw new UsageError('missing --steps');
    options = { ...defaultDistillOptions, ...given, steps };
    state = newDistillState(teacher, options);
  }
  // --dataset, else the one the resumed run used, else the teacher's
  const dataset = datasetFlag ?? resumedDataset ?? loaded.card.dataset;
  try {
    datasetInfo(dataset);
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message}${datasetFlag ? '' : ` (the teacher's card names "${dataset}"; pass --dataset)`}`,
    );
  }
  const data = loadDataset(dataset, 'train');
  const { height, width, channels } = teacher.config.image;
  if (data.height !== height || data.width !== width || data.channels !== channels)
    throw new Error(
      `dataset ${dataset} has ${data.height}×${data.width}×${data.channels} images; the teacher models ${height}×${width}×${channels}`,
    );
  await writeFile(logPath, history.map((l) => JSON.stringify(l) + '\n').join('')); // a fresh run starts an empty log
  if (!json)
    log(
      `distilling ${file.source} → ${outPath}: ${countParams(state.vars).toLocaleString('en-US')} student parameters, ${dataset} (${data.n} images), ${report.active}, batch ${options.batch}, ${options.steps} steps`,
    );

  const teacherInfo = {
    source: file.source,
    name: file.entry?.name ?? basename(file.source),
    sha256: teacherSha,
    dataset: loaded.card.dataset,
    steps: loaded.card.steps,
  };
  const save = async () => {
    const card: Card = {
      dataset,
      steps: state.step,
      time_s: Math.round(state.timeS),
      seed: options.seed,
      metrics: {},
      teacher: teacherInfo,
      distill: {
        trainer: 'farmer distill',
        device: report.active,
        world_size: 1,
        algorithm: 'Algorithm 2 (docs/model.md, "One-step distillation"): one-step student, s ~ U[0, 0.3]',
        options,
        skipped_steps: state.skipped,
        first_loss: history.find((l) => !l.skipped)?.loss ?? null,
        last50_loss: meanOfLast50(history, (l) => l.loss),
        curve_loss: lossCurve(history),
      },
    };
    const { config, params } = studentModelParams(teacher, state);
    await writeBytes(outPath, await saveCheckpointAsync(config, params, card));
    await writeBytes(
      statePath,
      await encodeTrainState(config, options, state, {
        teacher_sha256: teacherSha,
        teacher: teacherInfo.source,
        dataset,
      }),
    );
  };

  if (state.step >= options.steps) await save(); // nothing to do; still write the student
  await runStepLoop({
    name: 'distill',
    steps: options.steps,
    done: () => state.step,
    history,
    logPath,
    save,
    checkpointEvery,
    logEvery,
    maxMinutes,
    json,
    log,
    step: () => distillOneStep(teacher, state, data, options),
    describe: (l) =>
      `step ${l.step} loss ${l.loss.toExponential(4)} lr ${l.lr.toExponential(2)} |g| ${l.grad_norm.toFixed(3)} ${l.images_per_s.toFixed(1)} img/s`,
  });
  const summary = {
    out: outPath,
    teacher: teacherInfo.source,
    teacher_sha256: teacherSha,
    steps: state.step,
    of: options.steps,
    time_s: state.timeS,
    skipped: state.skipped,
    first_loss: history.find((l) => !l.skipped)?.loss ?? null,
    last50_loss: meanOfLast50(history, (l) => l.loss),
  };
  disposeTrainState(state);
  tf.dispose([...teacher.params.values()]);
  if (json) out(JSON.stringify(summary));
  else
    out(
      `${outPath}: step ${summary.steps}/${summary.of}, ${summary.time_s.toFixed(0)} s, mean loss of the last 50 steps ${summary.last50_loss?.toExponential(4)}`,
    );
}
