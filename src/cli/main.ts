// `farmer <command> …`. Each command lives in ./commands/<name>.ts and exports `run` and `usage`.
// Exit codes: 0 done; 1 an error (one line on stderr); 2 a usage error (the line, then the usage, on stderr).
import { parseArgs, Flags, UsageError } from './args';
import { ValueError } from '../lib/util/validate';
import pkg from '../../package.json' with { type: 'json' };

export interface CommandContext {
  flags: Flags;
  /** --json: machine-readable output on stdout, one line */
  json: boolean;
  /** write a line to stdout */
  out: (line: string) => void;
  /** progress and notes for people, on stderr */
  log: (line: string) => void;
}

type Command = { run: (ctx: CommandContext) => Promise<void>; usage: string; booleanFlags?: string[] };

const commands: Record<string, string> = {
  info: 'config, parameter count, card and lineage of a model',
  forward: 'per-image logdet, log prior, log p(x), NLL and BPD',
  sample: "samples as .npy or a .png grid (the card's recommended settings, unless overridden)",
  train: 'train a model from a config (Eq. 14, AdamW, EMA); resumable',
  eval: "BPD, and FID / IS / precision–recall of samples (the dataset's feature network)",
  distill: 'a one-step student of a teacher (Algorithm 2)',
  analyze: 'the analyses the README cites: label-use, redundant-content, histogram-bpd, training-curves',
  convert: 'checkpoint surgery: widen-informative, class-conditional-af, raw-weights',
  metrics: 'fid of two feature arrays',
  reproduce: "a notebook's experiment headless: JSON + SVG",
  zoo: 'register or refresh a model in static/models/index.json',
  bench: 'speed of the engine',
};

const globalUsage = `farmer ${pkg.version}: FARMER Workbench's command line
usage: farmer <command> [options] [--] [arguments]
       farmer <command> -h | --help     that command's usage
       farmer --version
Every command takes --json (one line of JSON on stdout) and --backend cpu|wasm|webgpu (default wasm).
commands:
${Object.entries(commands)
  .map(([name, what]) => `  ${name.padEnd(10)} ${what}`)
  .join('\n')}`;

async function loadCommand(name: string): Promise<Command> {
  try {
    return (await import(`./commands/${name}.ts`)) as Command;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String(e).includes(`commands/${name}`))
      throw new UsageError(`command "${name}" is not available in this build`);
    throw e;
  }
}

/** -h / --help before a `--` */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const stdout = (l: string) => process.stdout.write(l + '\n');
  const stderr = (l: string) => process.stderr.write(l + '\n');
  if (name === '--version' || name === '-V') {
    stdout(pkg.version);
    return 0;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    stdout(globalUsage);
    return 0;
  }
  if (name === undefined) {
    stderr(globalUsage);
    return 2;
  }
  const helpFor = name === 'help' ? rest[0] : asksForHelp(rest) ? name : null;
  const commandName = helpFor ?? name;
  let command: Command | null = null;
  try {
    if (!(commandName in commands))
      throw new UsageError(`unknown command "${commandName}" (commands: ${Object.keys(commands).join(', ')})`);
    command = await loadCommand(commandName);
    if (helpFor !== null) {
      stdout(`usage: ${command.usage}`);
      return 0;
    }
    const booleans = new Set(['json', 'resume', 'bpd', 'fid', 'is', 'pr', 'help', ...(command.booleanFlags ?? [])]);
    const flags = new Flags(parseArgs(rest, booleans));
    const json = flags.bool('json');
    await command.run({ flags, json, out: stdout, log: stderr });
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    stderr(`farmer ${commandName}: ${msg}`);
    if (process.env.FARMER_DEBUG && e instanceof Error) stderr(`${e.stack}`);
    if (!(e instanceof UsageError || e instanceof ValueError)) return 1;
    stderr(command ? `usage: ${command.usage}` : globalUsage);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
