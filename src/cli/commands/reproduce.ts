// `farmer reproduce <experiment>`: a notebook's experiment, headless. The same registry and code
// as the page; figures are built with Observable Plot in a jsdom document and written as SVG.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { JSDOM } from 'jsdom';
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { disposeModel, progressBar, setupBackend } from '../common';
import { loadDataset } from '../../node/datasets';
import { experimentIds, isExperimentId, loadExperiment } from '../../lib/experiments/catalog';
import { figureSvg, jsonText, slug } from '../../lib/experiments/export';
import { SEED_MAX, ValueError } from '../../lib/util/validate';
import { datasetOf, gatherInputs, resolveParams, type InputSources } from '../../lib/experiments/resolve';
import type { AnyExperiment, ExperimentContext, ExperimentId, Params } from '../../lib/experiments/types';
import { makeModel, type FarmerModel } from '../../lib/farmer/model';
import { loadCheckpoint, type Card } from '../../lib/io/checkpoint';
import { readModelFile, readZooIndex } from '../../node/files';
import { checkTeacherHash, findTeacher, teacherNotFound, teacherOf } from '../../lib/io/teacher';
import { loadFeatureNet } from '../../node/feature-net';
import { sha256Hex } from '../../lib/util/hash';

export const usage = `farmer reproduce <${experimentIds.join('|')}> --model <model> --out <dir> [--seed S] [--param key=value …] [--json] [--backend cpu|wasm|webgpu]
  runs a notebook's experiment headless and writes <dir>/<experiment>.json (parameters, model,
  seed, backend, the figure data) and one <dir>/<experiment>-<figure>.svg per figure.
  --param sets one of the experiment's parameters (repeatable); the rest take their defaults.`;

/** What `reproduce` reads besides the model file; tests pass fakes. */
export interface ReproduceDeps {
  loadExperiment(id: ExperimentId): Promise<AnyExperiment>;
  /** the test split, feature network and teacher, from files */
  sources: InputSources;
}

/** The teacher of a student from static/models, by the sha256 (else the name) its card records. */
export async function loadZooTeacher(card: Card): Promise<FarmerModel> {
  const ref = teacherOf(card);
  const index = await readZooIndex();
  const entry = index ? findTeacher(index.models, ref) : null;
  if (!entry) throw new Error(teacherNotFound(ref, 'static/models/index.json'));
  const file = await readModelFile(entry.name);
  checkTeacherHash(ref, `${entry.name} (${file.source})`, await sha256Hex(file.bytes));
  const { config, params } = loadCheckpoint(file.bytes, file.source);
  return makeModel(config, params);
}

export const nodeDeps: ReproduceDeps = {
  loadExperiment,
  sources: {
    testSet: async (name) => loadDataset(name, 'test'),
    featureNet: async (name) => loadFeatureNet(name),
    teacher: (card) => loadZooTeacher(card as Card),
  },
};

export interface ReproduceOptions {
  experiment: string;
  /** a .safetensors path or a zoo name */
  model: string;
  out: string;
  seed?: number;
  /** `key=value` strings */
  params: string[];
  /** the active backend, recorded in the output */
  backend: string;
  onProgress?: ExperimentContext['onProgress'];
}

/** What was run and written. */
export interface ReproduceSummary {
  experiment: ExperimentId;
  title: string;
  model: { source: string; name: string; hash: string };
  seed: number | null;
  backend: string;
  params: Params;
  cost: string;
  elapsed_s: number;
  /** paths written: the JSON first, then the SVGs */
  files: string[];
}

/** `key=value` pairs as text, by key; keys the experiment does not take, and `seed`, are refused. */
export function parseParamFlags(pairs: string[], known: readonly string[], id: string): Record<string, string> {
  const out: Record<string, string> = {};
  const keys = known.filter((k) => k !== 'seed');
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param needs key=value, got "${pair}"`);
    const key = pair.slice(0, eq);
    if (key === 'seed') throw new UsageError('set the seed with --seed, not --param');
    if (!keys.includes(key)) throw new UsageError(`${id} has no parameter "${key}" (it takes ${keys.join(', ')})`);
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

export async function reproduce(o: ReproduceOptions, deps: ReproduceDeps = nodeDeps): Promise<ReproduceSummary> {
  if (!isExperimentId(o.experiment))
    throw new UsageError(`unknown experiment "${o.experiment}" (one of ${experimentIds.join(', ')})`);
  const id = o.experiment;
  const file = await readModelFile(o.model);
  const hash = await sha256Hex(file.bytes);
  const { config, card, params: weights } = loadCheckpoint(file.bytes, file.source);
  const model = makeModel(config, weights);
  const teachers: FarmerModel[] = [];
  try {
    const experiment = await deps.loadExperiment(id);
    const raw = parseParamFlags(o.params, Object.keys(experiment.params.specs), id);
    let params: Params;
    try {
      params = resolveParams(experiment, model, raw, o.seed);
    } catch (e) {
      if (e instanceof ValueError) throw new UsageError(e.message);
      throw e;
    }
    const dataset = datasetOf(card, file.source);
    const inputs = await gatherInputs(experiment, dataset, card, {
      ...deps.sources,
      teacher: async (c) => {
        const t = await deps.sources.teacher(c);
        teachers.push(t);
        return t;
      },
    });
    const start = performance.now();
    const result = await experiment.run(model, inputs, params, { onProgress: o.onProgress });
    const elapsed = (performance.now() - start) / 1000;

    const doc = new JSDOM('<!doctype html><html><head></head><body></body></html>').window.document;
    const figures = [...experiment.figures(result, params, doc)];
    await mkdir(o.out, { recursive: true });
    const svgFiles = figures.map((f) => ({ name: f.name, file: `${id}-${slug(f.name)}.svg` }));
    const names = new Set(svgFiles.map((f) => f.file));
    if (names.size !== svgFiles.length)
      throw new Error(`${id}: two figures share a file name (${svgFiles.map((f) => f.name).join(', ')})`);
    const summary: ReproduceSummary = {
      experiment: id,
      title: experiment.title,
      model: { source: file.source, name: file.entry?.name ?? basename(file.source), hash },
      seed: typeof params.seed === 'number' ? params.seed : null,
      backend: o.backend,
      params,
      cost: experiment.cost(params, model).description,
      elapsed_s: Math.round(elapsed * 1000) / 1000,
      files: [join(o.out, `${id}.json`), ...svgFiles.map((f) => join(o.out, f.file))],
    };
    const { elapsed_s: _t, files: _f, ...recorded } = summary;
    const json = { ...recorded, figures: svgFiles, data: experiment.toJSON(result, params) };
    await writeFile(summary.files[0], jsonText(json, 1) + '\n');
    for (const [i, f] of figures.entries()) await writeFile(join(o.out, svgFiles[i].file), figureSvg(f).svg);
    return summary;
  } finally {
    disposeModel(model);
    for (const t of teachers) disposeModel(t);
  }
}

export async function run({ flags, json, out, log }: CommandContext): Promise<void> {
  const [experiment, extra] = flags.positionals;
  if (!experiment) throw new UsageError(`missing <experiment>: one of ${experimentIds.join(', ')}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const model = flags.required('model');
  const outDir = flags.required('out');
  const seed = flags.int('seed', undefined, { min: 0, max: SEED_MAX });
  const params = flags.list('param');
  const report = await setupBackend(flags);
  flags.finish();
  // One terminal progress bar per phase (a new total or label starts a new one).
  let bar: { key: string; bar: ReturnType<typeof progressBar> } | null = null;
  const summary = await reproduce({
    experiment,
    model,
    out: outDir,
    seed,
    params,
    backend: report.active,
    onProgress: (done, total, label) => {
      const key = `${label ?? experiment}/${total}`;
      if (bar?.key !== key) {
        bar?.bar.end();
        bar = { key, bar: progressBar(label ?? experiment, total) };
      }
      bar.bar.tick(done);
    },
  });
  (bar as { bar: ReturnType<typeof progressBar> } | null)?.bar.end();
  if (json) {
    out(JSON.stringify(summary));
    return;
  }
  log(`${summary.title}: ${summary.cost}; ${summary.elapsed_s} s on ${summary.backend}`);
  for (const f of summary.files) out(f);
}
