// `farmer analyze <name>`: the analyses the README's findings rest on.
import type { CommandContext } from '../main';
import { runSubcommand, subcommandUsage, type Subcommand } from '../subcommands';
import { labelUseCommand } from '../analyze/label-use';
import { redundantContentCommand } from '../analyze/redundant-content';
import { histogramBpdCommand } from '../analyze/histogram-bpd';
import { trainingCurvesCommand } from '../analyze/training-curves';

const analyses: Record<string, Subcommand> = {
  'label-use': labelUseCommand,
  'redundant-content': redundantContentCommand,
  'histogram-bpd': histogramBpdCommand,
  'training-curves': trainingCurvesCommand,
};

export const usage = subcommandUsage(
  'analyze',
  'the analyses the README cites; text for people, or one line of JSON with --json',
  analyses,
);

export function run(ctx: CommandContext): Promise<void> {
  return runSubcommand('analyze', analyses, ctx);
}
