// Speed figures for the zoo, called by `farmer bench`: training images/s of every configs/*.json,
// sampling images/s of a teacher (sequential AR + KV-cached AF inverse) and of its one-step
// student (AR + one parallel pass per block), and FID time on random features. Medians of
// repeated runs after one warm-up; random weights (speed does not depend on training).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseConfig, referenceConfig, type FarmerConfig } from '../../lib/farmer/config';
import { initParams } from '../../lib/farmer/params';
import { countParams, disposeParams } from '../../lib/nn/params';
import { decodeLatents, makeModel, trainingLoss, type FarmerModel } from '../../lib/farmer/model';
import { sample } from '../../lib/farmer/sampling';
import { studentConfig } from '../../lib/farmer/distill';
import { toVariables, trainStep } from '../../lib/train/step';
import { AdamW } from '../../lib/train/adamw';
import { FEATURE_DIM } from '../../lib/metrics/classifier';
import { timeFid } from '../../lib/metrics/fid';
import { repoRoot } from '../../node/files';
import { Rng } from '../../lib/util/random';
import { timeIt, type Timing } from '../timing';
import { median } from '../../lib/metrics/robust';

/** Every configs/*.json by file name without the extension (throws naming a bad file). */
export function readConfigs(dir = join(repoRoot(), 'configs')): Record<string, FarmerConfig> {
  const out: Record<string, FarmerConfig> = {};
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    try {
      out[f.slice(0, -5)] = parseConfig(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    } catch (e) {
      throw new Error(`${join(dir, f)}: ${(e as Error).message}`);
    }
  }
  return out;
}

function randomBatch(cfg: FarmerConfig, B: number, seed: number): { x: tf.Tensor4D; labels: Int32Array | null } {
  const { height, width, channels } = cfg.image;
  const rng = new Rng(seed);
  const x = tf.tensor4d(rng.uniforms(B * height * width * channels, -1, 1), [B, height, width, channels]);
  return { x, labels: cfg.num_classes > 0 ? Int32Array.from({ length: B }, () => rng.int(cfg.num_classes)) : null };
}

export interface TrainSpeed extends Timing {
  parameters: number;
  batch: number;
}

/** Training-step images/s (Eq. 14 loss, gradients, AdamW) of one configuration. */
export async function benchTrainConfig(cfg: FarmerConfig, { batch = 16, reps = 3 } = {}): Promise<TrainSpeed> {
  const init = initParams(cfg, { seed: 0, projOutStd: 0.02 });
  const vars = toVariables(init);
  disposeParams(init); // the variables hold their own reference
  const model = makeModel(cfg, vars);
  const opt = new AdamW({ weightDecay: 0.03 });
  const { x, labels } = randomBatch(cfg, batch, 2);
  try {
    const t = await timeIt(
      async () => {
        await trainStep(vars, () => trainingLoss(model, x, labels), opt, 1e-4);
      },
      reps,
      batch,
    );
    return { ...t, parameters: countParams(vars), batch };
  } finally {
    x.dispose();
    opt.dispose();
    for (const v of vars.values()) v.dispose();
  }
}

/** benchTrainConfig for each named configuration. */
export async function benchTrainConfigs(
  configs: Record<string, FarmerConfig>,
  o: { batch?: number; reps?: number; say?: (line: string) => void } = {},
): Promise<Record<string, TrainSpeed>> {
  const out: Record<string, TrainSpeed> = {};
  for (const [name, cfg] of Object.entries(configs)) {
    out[name] = await benchTrainConfig(cfg, o);
    o.say?.(`  train ${name.padEnd(22)} ${out[name].images_per_s.toFixed(2)} images/s`);
  }
  return out;
}

export interface SamplerSpeed {
  /** whole sampling: AR prior, then the AF inverse */
  sample: Timing;
  /** the AF inverse alone (Z → images) */
  af_inverse: Timing;
}

export interface TeacherStudentSpeed {
  n: number;
  /** sequential AR + KV-cached AF inverse */
  teacher: SamplerSpeed;
  /** the same AR + one parallel pass per student block */
  student: SamplerSpeed;
  /** student / teacher images/s */
  speedup: { sample: number; af_inverse: number };
}

async function samplerSpeed(model: FarmerModel, n: number, reps: number): Promise<SamplerSpeed> {
  const labels =
    model.config.num_classes > 0 ? Int32Array.from({ length: n }, (_, i) => i % model.config.num_classes) : null;
  const whole = await timeIt(
    async () => {
      const r = await sample(model, { n, seed: 0, labels });
      await r.images.data();
      r.images.dispose();
      r.z.dispose();
    },
    reps,
    n,
  );
  const { tokens: N, tokenDim: d } = model.dims;
  const z = tf.tensor3d(new Rng(3).normals(n * N * d), [n, N, d]);
  const inverse = await timeIt(
    async () => {
      const x = decodeLatents(model, z, { labels });
      await x.data();
      x.dispose();
    },
    reps,
    n,
  );
  z.dispose();
  return { sample: whole, af_inverse: inverse };
}

/** Teacher vs distilled-student sampling on one configuration (the reference one by default). */
export async function benchTeacherStudent(
  cfg: FarmerConfig = referenceConfig,
  { n = 8, reps = 3 } = {},
): Promise<TeacherStudentSpeed> {
  const params = initParams(cfg, { seed: 0, projOutStd: 0.02 });
  try {
    const teacher = await samplerSpeed(makeModel(cfg, params), n, reps);
    const student = await samplerSpeed(makeModel(studentConfig(cfg), params), n, reps);
    return {
      n,
      teacher,
      student,
      speedup: {
        sample: student.sample.images_per_s / teacher.sample.images_per_s,
        af_inverse: student.af_inverse.images_per_s / teacher.af_inverse.images_per_s,
      },
    };
  } finally {
    disposeParams(params);
  }
}

export interface FidSpeed {
  n: number;
  dims: number;
  /** median seconds: both sets' statistics, the distance, the total */
  stats_s: number;
  distance_s: number;
  median_s: number;
  runs_s: number[];
}

/** FID (statistics of two random n × dims feature sets and their distance), median of reps runs. */
export function benchFid({ n = 10000, dims = FEATURE_DIM, reps = 3 } = {}): FidSpeed {
  const runs = Array.from({ length: reps }, (_, i) => timeFid(n, dims, i));
  return {
    n,
    dims,
    stats_s: median(runs.map((r) => r.stats_s)),
    distance_s: median(runs.map((r) => r.distance_s)),
    median_s: median(runs.map((r) => r.total_s)),
    runs_s: runs.map((r) => r.total_s),
  };
}

export interface ZooBenchOptions {
  /** training batch, default 16 */
  batch?: number;
  reps?: number;
  /** samples per sampling run, default 8 */
  sampleN?: number;
  /** FID feature vectors per set, default 10000 */
  fidN?: number;
  /** configurations to train; default every configs/*.json */
  configs?: Record<string, FarmerConfig>;
  /** teacher/student configuration, default the reference one */
  samplingConfig?: FarmerConfig;
  say?: (line: string) => void;
}

export interface ZooBench {
  train: Record<string, TrainSpeed>;
  sampling: TeacherStudentSpeed & { config: string };
  fid: FidSpeed;
}

/** Everything above, printing a line per figure through `say`. */
export async function benchZoo(o: ZooBenchOptions = {}): Promise<ZooBench> {
  const { batch = 16, reps = 3, sampleN = 8, fidN = 10000, say } = o;
  const train = await benchTrainConfigs(o.configs ?? readConfigs(), { batch, reps, say });
  const ts = await benchTeacherStudent(o.samplingConfig ?? referenceConfig, { n: sampleN, reps });
  say?.(
    `  sample, teacher (AR + cached AF inverse)   ${ts.teacher.sample.images_per_s.toFixed(2)} images/s (AF inverse ${ts.teacher.af_inverse.images_per_s.toFixed(2)})`,
  );
  say?.(
    `  sample, student (AR + one-pass inverse)    ${ts.student.sample.images_per_s.toFixed(2)} images/s (AF inverse ${ts.student.af_inverse.images_per_s.toFixed(2)})`,
  );
  const fid = benchFid({ n: fidN, reps });
  say?.(`  FID on ${fidN} × ${fid.dims} random features  ${fid.median_s.toFixed(2)} s`);
  return {
    train,
    sampling: { ...ts, config: o.samplingConfig ? 'given' : 'reference (docs/model.md, "Checkpoint file")' },
    fid,
  };
}
