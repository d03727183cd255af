// A small argument parser: positionals, `--flag value`, `--flag=value`, boolean flags, and `--`
// (everything after it is a positional). `-h` is `--help`; other single-dash options do not exist.
import { checkChoice, checkInt, checkNumber, checkSeed, type Bounds } from '../lib/util/validate';
import { datasets, type DatasetName } from '../lib/data/datasets';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedArgs {
  positionals: string[];
  /** the last value of each flag */
  flags: Map<string, string | true>;
  /** every value of each flag given with a value, in order (for repeatable flags) */
  lists?: Map<string, string[]>;
}

export function parseArgs(argv: string[], booleanFlags: ReadonlySet<string>): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  const set = (name: string, v: string) => (flags.set(name, v), lists.set(name, [...(lists.get(name) ?? []), v]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h') {
      flags.set('help', true);
      continue;
    }
    if (/^-[A-Za-z]/.test(a)) throw new UsageError(`unknown option ${a}`);
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (eq >= 0) set(name, a.slice(eq + 1));
    else if (booleanFlags.has(name)) flags.set(name, true);
    else {
      const v = argv[i + 1];
      if (v === undefined || (v.startsWith('--') && !/^--?\d/.test(v))) throw new UsageError(`--${name} needs a value`);
      set(name, v);
      i++;
    }
  }
  return { positionals, flags, lists };
}

/** Typed access to parsed flags; every unknown flag is an error. */
export class Flags {
  private used = new Set<string>();
  constructor(private readonly parsed: ParsedArgs) {}

  get positionals(): string[] {
    return this.parsed.positionals;
  }

  bool(name: string): boolean {
    this.used.add(name);
    return this.parsed.flags.get(name) === true;
  }

  str(name: string): string | undefined;
  str(name: string, fallback: string): string;
  str(name: string, fallback?: string): string | undefined {
    this.used.add(name);
    const v = this.parsed.flags.get(name);
    if (v === true) throw new UsageError(`--${name} needs a value`);
    return v ?? fallback;
  }

  required(name: string): string {
    const v = this.str(name);
    if (v === undefined) throw new UsageError(`missing --${name}`);
    return v;
  }

  num(name: string): number | undefined;
  num(name: string, fallback: undefined, bounds: Bounds): number | undefined;
  num(name: string, fallback: number, bounds?: Bounds): number;
  num(name: string, fallback?: number, bounds: Bounds = {}): number | undefined {
    const v = this.str(name);
    return v === undefined ? fallback : checkNumber(`--${name}`, v, bounds);
  }

  int(name: string): number | undefined;
  int(name: string, fallback: undefined, bounds: Bounds): number | undefined;
  int(name: string, fallback: number, bounds?: Bounds): number;
  int(name: string, fallback?: number, bounds: Bounds = {}): number | undefined {
    const v = this.str(name);
    return v === undefined ? fallback : checkInt(`--${name}`, v, bounds);
  }

  /** `--seed` (or `name`): an integer in [0, SEED_MAX]. */
  seed(fallback = 0, name = 'seed'): number {
    const v = this.str(name);
    return v === undefined ? fallback : checkSeed(`--${name}`, v);
  }

  /** One of `choices`, `fallback` when absent. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    return checkChoice(`--${name}`, this.str(name, fallback), choices);
  }

  /** `--dataset`: a dataset the workbench knows; required when there is no fallback. */
  dataset(fallback?: DatasetName): DatasetName {
    const v = fallback === undefined ? this.required('dataset') : this.str('dataset', fallback);
    return checkChoice('--dataset', v, Object.keys(datasets) as DatasetName[]);
  }

  /** Every value of a repeatable flag (`--param a=1 --param b=2`), in order. */
  list(name: string): string[] {
    this.used.add(name);
    if (this.parsed.flags.get(name) === true) throw new UsageError(`--${name} needs a value`);
    return this.parsed.lists?.get(name) ?? [];
  }

  /** Throws on any flag the command did not read. */
  finish(): void {
    for (const name of this.parsed.flags.keys())
      if (!this.used.has(name)) throw new UsageError(`unknown option --${name}`);
  }
}
