// `farmer <command> …` (spec §8). Each command lives in ./commands/<name>.ts and exports `run`.
import { parseArgs, Flags, UsageError } from './args';
import { ValueError } from '../lib/util/validate';

export interface CommandContext {
  flags: Flags;
  /** --json: machine-readable output on stdout */
  json: boolean;
  /** write a line to stdout */
  out: (line: string) => void;
  /** progress and notes for people, on stderr */
  log: (line: string) => void;
}

type Command = { run: (ctx: CommandContext) => Promise<void>; usage: string; booleanFlags?: string[] };

const commandNames = ['info', 'forward', 'sample', 'bench', 'metrics', 'train', 'eval', 'reproduce', 'distill', 'zoo'];

async function loadCommand(name: string): Promise<Command> {
  try {
    return (await import(`./commands/${name}.ts`)) as Command;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String(e).includes(`commands/${name}`))
      throw new UsageError(`command "${name}" is not available in this build`);
    throw e;
  }
}

const usage = `usage: farmer <command> [options]   (every command takes --json and --backend cpu|wasm|webgpu)
  info <model>                 config, parameter count, card
  forward <model> (--images u8.npy | --inputs f32.npy) [--labels i.npy] [--seed S] [--latents out.npy]
  sample <model> --n N [--T --s --T-red --s-red] [--class y --cfg w --cfg-method naive|resampling] [--seed S] --out f.npy|f.png
  train <config.json> --dataset <name> --out <model> [--resume] [--steps] [--batch]
  eval <model> --dataset <name> --split test [--bpd] [--fid] [--is] [--pr] [--n N]
  metrics fid a.npy b.npy      Fréchet distance of two float32 [n, f] feature arrays
  reproduce <separation|logdet|sensitivity|likelihood|redundant|guidance|distill> --model <model> --out <dir> [--seed S] [--param key=value …]
  distill <teacher> --out <student>  one-step student (Algorithm 2)
  zoo add|update <model file>  register a trained model in static/models/index.json
  bench [--json]`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const known = commandNames.includes(name);
  try {
    if (!known) throw new UsageError(`unknown command "${name}"`);
    const command = await loadCommand(name);
    const booleans = new Set(['json', 'resume', 'bpd', 'fid', 'is', 'pr', 'help', ...(command.booleanFlags ?? [])]);
    const flags = new Flags(parseArgs(rest, booleans));
    if (flags.bool('help')) {
      console.log(command.usage);
      return 0;
    }
    const json = flags.bool('json');
    await command.run({ flags, json, out: (l) => process.stdout.write(l + '\n'), log: (l) => process.stderr.write(l + '\n') });
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`farmer ${name ?? ''}: ${msg}\n`);
    const usageError = e instanceof UsageError || e instanceof ValueError;
    if (usageError) process.stderr.write(`run "farmer ${known ? name + ' --help' : '--help'}" for usage\n`);
    if (process.env.FARMER_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return usageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
