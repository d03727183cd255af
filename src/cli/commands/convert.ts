// `farmer convert <name>`: checkpoint surgery that made zoo models. The two that change the
// architecture also write <out>.json, the new config, for `farmer train <out>.json --init <out>`.
import type { CommandContext } from '../main';
import { UsageError, type Flags } from '../args';
import { runSubcommand, subcommandUsage, type Subcommand } from '../subcommands';
import { encodeCheckpoint, readCheckpoint, type CheckpointData } from '../../lib/io/checkpoint';
import type { FarmerConfig } from '../../lib/farmer/config';
import { readBytes, readModelFile, writeBytes } from '../../node/files';
import { widenInformative } from '../convert/widen-informative';
import { classConditionalAf } from '../convert/class-conditional-af';
import { rawWeights } from '../convert/raw-weights';

/** <model> and --out (a .safetensors path), read before any work. */
function modelAndOut(flags: Flags, args: string[]): { model: string; out: string } {
  const [model, extra] = args;
  const out = flags.required('out');
  flags.str('backend'); // accepted by every command; these run no model
  flags.finish();
  if (!model) throw new UsageError('missing <model>: a .safetensors path or a zoo name');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  if (!out.endsWith('.safetensors')) throw new UsageError('--out must end in .safetensors');
  return { model, out };
}

async function readModel(arg: string): Promise<CheckpointData & { source: string }> {
  const file = await readModelFile(arg);
  return { ...readCheckpoint(file.bytes, file.source), source: file.source };
}

/** Writes the converted model (its card without the old metrics) and <out>.json with its config. */
async function writeConverted(
  ctx: CommandContext,
  out: string,
  from: CheckpointData,
  converted: { config: FarmerConfig; values: Map<string, Float32Array> },
  what: string,
) {
  await writeBytes(out, encodeCheckpoint(converted.config, converted.values, { ...from.card, metrics: {} }));
  const configPath = out.replace(/\.safetensors$/, '.json');
  await writeBytes(configPath, new TextEncoder().encode(JSON.stringify(converted.config) + '\n'));
  if (ctx.json) ctx.out(JSON.stringify({ out, config: configPath }));
  else ctx.out(`${out}: ${what}; config ${configPath}`);
}

const conversions: Record<string, Subcommand> = {
  'widen-informative': {
    usage: `widen-informative <model> --out out.safetensors --component k [--informative-dims d_I']
    G_R cut to component k, and the first d_I' − d_I redundant channels moved into the informative
    group (their GMMs start at component k's biases); d_I' defaults to the model's d_I (only the cut)`,
    async run(ctx, args) {
      const k = ctx.flags.int('component', undefined, { min: 0 });
      const dI = ctx.flags.int('informative-dims', undefined, { min: 1 });
      const { model, out } = modelAndOut(ctx.flags, args);
      if (k === undefined) throw new UsageError('missing --component');
      const from = await readModel(model);
      if (from.config.prior.kind !== 'farmer')
        throw new Error(`${from.source} has a gaussian prior: nothing to regroup`);
      const dI0 = from.config.prior.informative_dims;
      const converted = widenInformative(from, k, dI ?? dI0);
      await writeConverted(
        ctx,
        out,
        from,
        converted,
        `d_I ${dI0} → ${dI ?? dI0}, K_R ${from.config.prior.mixtures_redundant} → 1 (component ${k})`,
      );
    },
  },
  'class-conditional-af': {
    usage: `class-conditional-af <model> --out out.safetensors
    the AF made class-conditional with zero class embeddings: the same function, ready to fine-tune`,
    async run(ctx, args) {
      const { model, out } = modelAndOut(ctx.flags, args);
      const from = await readModel(model);
      let converted;
      try {
        converted = classConditionalAf(from);
      } catch (e) {
        throw new Error(`${from.source}: ${(e as Error).message}`);
      }
      await writeConverted(ctx, out, from, converted, 'class-conditional AF, class_embed at zero');
    },
  },
  'raw-weights': {
    usage: `raw-weights <model.safetensors> --out out.safetensors --note "why the raw weights ship"
    the raw (non-EMA) weights from <model>.state.safetensors, with the note as card.weights`,
    async run(ctx, args) {
      const note = ctx.flags.required('note');
      const { model, out } = modelAndOut(ctx.flags, args);
      const statePath = `${model}.state.safetensors`;
      const { bytes, step } = rawWeights(
        await readBytes(model, 'model file'),
        await readBytes(statePath, 'training state'),
        note,
        model,
      );
      await writeBytes(out, bytes);
      if (ctx.json) ctx.out(JSON.stringify({ out, step }));
      else ctx.out(`${out}: raw weights at step ${step}`);
    },
  },
};

export const usage = subcommandUsage(
  'convert',
  'checkpoint surgery used to make zoo models; each writes a checked checkpoint',
  conversions,
);

export function run(ctx: CommandContext): Promise<void> {
  return runSubcommand('convert', conversions, ctx);
}
