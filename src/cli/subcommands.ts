// Commands made of named subcommands (`farmer analyze <name>`, `farmer convert <name>`): one
// usage listing them all, one dispatch, the same flags and backend set-up as every command.
import type { CommandContext } from './main';
import { UsageError } from './args';

export interface Subcommand {
  /** `farmer <command> <name> …` and what it does, for the usage text */
  usage: string;
  /** `args`: the positionals after the subcommand's name */
  run(ctx: CommandContext, args: string[]): Promise<void>;
}

/** The usage of a command whose subcommands are `subs`. */
export function subcommandUsage(command: string, what: string, subs: Record<string, Subcommand>): string {
  return `farmer ${command} <${Object.keys(subs).join('|')}> [options] [--json] [--backend cpu|wasm|webgpu]
  ${what}
${Object.values(subs)
  .map((s) => s.usage.replace(/^/gm, '  '))
  .join('\n')}`;
}

/** Runs the subcommand named by the first positional. */
export async function runSubcommand(
  command: string,
  subs: Record<string, Subcommand>,
  ctx: CommandContext,
): Promise<void> {
  const [name, ...args] = ctx.flags.positionals;
  if (!name) throw new UsageError(`missing subcommand: one of ${Object.keys(subs).join(', ')}`);
  const sub = subs[name];
  if (!sub) throw new UsageError(`unknown ${command} "${name}" (one of ${Object.keys(subs).join(', ')})`);
  await sub.run(ctx, args);
}
