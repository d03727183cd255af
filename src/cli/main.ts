// `farmer <command> …` (spec §8). Each command lives in ./commands/<name>.ts and exports `run`.
import { parseArgs, Flags, UsageError } from './args';

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

const commands: Record<string, () => Promise<Command>> = {
  info: () => import('./commands/info'),
  forward: () => import('./commands/forward'),
  sample: () => import('./commands/sample'),
  bench: () => import('./commands/bench'),
  metrics: () => import('./commands/metrics'),
  train: () => import('./commands/train'),
  eval: () => import('./commands/eval'),
  reproduce: () => import('./commands/reproduce'),
  distill: () => import('./commands/distill'),
};

const usage = `usage: farmer <command> [options]   (every command takes --json and --backend cpu|wasm|webgpu)
  info <model>                 config, parameter count, card
  forward <model> (--images u8.npy | --inputs f32.npy) [--labels i.npy] [--seed S] [--latents out.npy]
  sample <model> --n N [--T --s --T-red --s-red] [--class y --cfg w --cfg-method naive|resampling] [--seed S] --out f.npy|f.png
  train <config.json> --dataset <name> --out <model> [--resume] [--steps] [--batch]
  eval <model> --dataset <name> --split test [--bpd] [--fid] [--is] [--pr] [--n N]
  metrics fid a.npy b.npy      Fréchet distance of two float32 [n, f] feature arrays
  reproduce <experiment> --model <model> --out <dir>
  distill <teacher> --out <student>
  bench [--json]`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const load = commands[name];
  try {
    if (!load) throw new UsageError(`unknown command "${name}"`);
    let command: Command;
    try {
      command = await load();
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(String(e)))
        throw new UsageError(`command "${name}" is not available in this build`);
      throw e;
    }
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
    if (e instanceof UsageError) process.stderr.write(`run "farmer ${load ? name + ' --help' : '--help'}" for usage\n`);
    if (process.env.FARMER_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
