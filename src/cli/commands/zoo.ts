// `farmer zoo add|update`: writes a model's entry in static/models/index.json (schema: src/lib/io/zoo.ts)
// with its size, SHA-256, dataset and headline metrics, after checking the file as `farmer info` does.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import { encodeCheckpoint, readCheckpoint } from '../../lib/io/checkpoint';
import { readBytes, readZooIndex, repoRoot } from '../../node/files';
import { parseZooIndex, type ZooEntry } from '../../lib/io/zoo';
import type { FarmerConfig } from '../../lib/farmer/config';
import {
  cardSampling,
  checkCardSampling,
  parseSamplingText,
  type CardSampling,
} from '../../lib/farmer/sampling-settings';

export const booleanFlags = ['f16'];

export const usage = `farmer zoo add|update <model.safetensors> --name N [--title T] [--description D] [--summary S]
        [--metrics eval.json] [--sampling T=0.9,s=0.8,T_R=1,s_R=1,denoise=true,cfg_method=resampling,cfg=2.5]
        [--f16] [--root DIR] [--json]
  add: a new entry (--title and --description required); update: refresh an entry's file, bytes,
  sha256, dataset and metrics, keeping title/description/summary unless given. A file outside
  static/models/ is copied there as <name>.safetensors. Metrics: the numbers of the card's
  "metrics", overridden by --metrics (the output of \`farmer eval --json\`), which is also stored whole
  in the shipped file's card (card.metrics.eval). --f16 stores the weights as float16. --root: the checkout
  whose static/models/ is written (default this one). --sampling sets keys of the card's recommended
  sampling settings (card.sampling; \`farmer sample\` and \`farmer eval\` start from them), keeping the others.
  A file whose weights are all float16 stays float16.`;

/** "AF 4×2 W128 + FARMER prior K16/16 (AR 4×W128)" */
export function describeConfig(c: FarmerConfig): string {
  const af = `AF ${c.af.blocks}×${c.af.layers_per_block} W${c.af.width}${c.af.class_conditional ? ' class-conditional' : ''}`;
  const prior =
    c.prior.kind === 'farmer'
      ? `FARMER prior K${c.prior.mixtures_informative}/${c.prior.mixtures_redundant}, d_I ${c.prior.informative_dims} (AR ${c.prior.ar.layers}×W${c.prior.ar.width})`
      : 'gaussian prior';
  return `${c.student ? 'one-step student: ' : ''}${af} + ${prior}, patch ${c.patch_size}, ${c.image.height}×${c.image.width}×${c.image.channels}`;
}

/** The numbers of a card's metrics: top-level numbers, and `{ value }` objects by their key. */
function cardMetrics(metrics: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (v && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'number')
      out[k] = (v as { value: number }).value;
  }
  return out;
}

/** Headline numbers of a `farmer eval --json` result, keyed by the feature network that made them. */
export function evalMetrics(r: Record<string, unknown>, source = 'eval JSON'): Record<string, number> {
  const out: Record<string, number> = {};
  const net = (r.feature_net as { name?: string } | null)?.name ?? 'features';
  const val = (key: string) => {
    const m = r[key] as { value?: unknown } | null | undefined;
    return m && typeof m.value === 'number' && Number.isFinite(m.value) ? m.value : undefined;
  };
  const bpd = val('bpd');
  if (bpd !== undefined) {
    out[`bpd_${String(r.split ?? 'test')}`] = bpd;
    const n = (r.bpd as { n?: unknown }).n;
    if (typeof n === 'number') out.bpd_n = n;
  }
  for (const key of ['fid', 'is', 'precision', 'recall']) {
    const v = val(key);
    if (v !== undefined) out[`${key}_${net}`] = v;
  }
  if (!Object.keys(out).length)
    throw new Error(`${source}: no metrics found (expected the output of \`farmer eval --json\`)`);
  if (typeof r.n === 'number') out.eval_n = r.n;
  return out;
}

export async function run({ flags, json, out, log }: CommandContext): Promise<void> {
  const [action, modelPath, ...rest] = flags.positionals;
  const name = flags.str('name');
  const title = flags.str('title'),
    description = flags.str('description'),
    summary = flags.str('summary');
  const metricsPath = flags.str('metrics');
  const f16 = flags.bool('f16');
  const samplingText = flags.str('sampling');
  const root = resolve(flags.str('root', repoRoot()));
  flags.str('backend'); // accepted by every command; this one runs no model
  flags.finish();
  if (action !== 'add' && action !== 'update')
    throw new UsageError(action ? `unknown action "${action}" (add or update)` : 'missing action: add or update');
  if (!modelPath) throw new UsageError('missing <model.safetensors>');
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (!name) throw new UsageError('missing --name');
  if (action === 'add' && (!title || !description)) throw new UsageError('zoo add needs --title and --description');

  const index = (await readZooIndex(root)) ?? { models: [] };
  const at = index.models.findIndex((m) => m.name === name);
  if (action === 'add' && at >= 0) throw new Error(`the zoo already has "${name}"; use \`farmer zoo update\``);
  if (action === 'update' && at < 0)
    throw new Error(
      `the zoo has no "${name}" (available: ${index.models.map((m) => m.name).join(', ') || 'none'}); use \`farmer zoo add\``,
    );

  const bytes = await readBytes(modelPath, 'model file');
  const { config, card, weights, summary: stored } = readCheckpoint(bytes, modelPath);
  let sampling: CardSampling | null = null;
  if (samplingText !== undefined) {
    sampling = { ...cardSampling(card), ...parseSamplingText(samplingText, '--sampling') };
    checkCardSampling(config, sampling, '--sampling');
  }
  let metrics = cardMetrics(card.metrics);
  let parsed: Record<string, unknown> | null = null;
  if (metricsPath) {
    try {
      parsed = JSON.parse(await readFile(metricsPath, 'utf8'));
    } catch (e) {
      throw new Error(
        `${metricsPath}: ${(e as { code?: string }).code === 'ENOENT' ? 'not found' : `not valid JSON (${(e as Error).message})`}`,
      );
    }
    metrics = { ...metrics, ...evalMetrics(parsed!, metricsPath) };
  }
  // The shipped file's card keeps the whole evaluation (labels, N, seeds), index.json its numbers.
  const reencode = f16 || parsed !== null || sampling !== null;
  // a file stored as float16 stays float16 when only its card changes
  const keepF16 = Object.keys(stored.dtypes).every((d) => d === 'F16');
  const shipped = reencode
    ? encodeCheckpoint(
        config,
        new Map([...weights].map(([n, w]) => [n, w.values])),
        {
          ...card,
          metrics: { ...card.metrics, ...(parsed ? { eval: parsed } : {}) },
          ...(sampling ? { sampling } : {}),
        },
        { dtype: f16 || keepF16 ? 'F16' : 'F32' },
      )
    : bytes;

  const modelsDir = join(root, 'static', 'models');
  let file = relative(modelsDir, resolve(modelPath));
  await mkdir(modelsDir, { recursive: true });
  const outside = file.startsWith('..') || isAbsolute(file);
  if (outside) file = `${name}.safetensors`;
  if (outside || reencode) {
    await writeFile(join(modelsDir, file), shipped);
    log(`wrote ${join(modelsDir, file)}${f16 ? ' (F16)' : ''} from ${modelPath}`);
  }
  const old: Partial<ZooEntry> = at >= 0 ? index.models[at] : {};
  const entry: ZooEntry = {
    name,
    file: file.split(sep).join('/'),
    title: title ?? old.title!,
    description: description ?? old.description!,
    dataset: card.dataset,
    bytes: shipped.byteLength,
    sha256: createHash('sha256').update(shipped).digest('hex'),
    metrics,
    summary: summary ?? old.summary ?? describeConfig(config),
  };
  const models = [...index.models];
  if (at >= 0) models[at] = entry;
  else models.push(entry);
  const next = parseZooIndex({ models }); // the schema's own checks, before anything is written
  await writeFile(join(modelsDir, 'index.json'), JSON.stringify(next, null, 2) + '\n');
  if (json) out(JSON.stringify(entry));
  else
    out(
      `${action === 'add' ? 'added' : 'updated'} "${name}" (${entry.file}, ${entry.bytes} bytes, sha256 ${entry.sha256!.slice(0, 12)}…) in ${join(modelsDir, 'index.json')}`,
    );
}
