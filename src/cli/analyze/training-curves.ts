// Training logs side by side (the <out>.log.jsonl files of `farmer train`): per run the steps,
// the median images/s, and the mean training BPD over the 50 steps up to each multiple of
// --every, so runs with the same schedule can be compared at equal steps.
import { readFile } from 'node:fs/promises';
import type { CommandContext } from '../main';
import { UsageError } from '../args';
import type { Subcommand } from '../subcommands';
import { median } from '../../lib/metrics/robust';

interface Line {
  step: number;
  bpd: number;
  images_per_s: number;
  skipped: boolean;
}

export interface Curve {
  name: string;
  /** the last step logged */
  steps: number;
  median_images_per_s: number;
  skipped: number;
  /** [step, mean BPD of the non-skipped finite lines in (step − 50, step]], NaN when none */
  bpd: [number, number][];
}

/** Mean training BPD of the lines in (at − window, at] that were not skipped and are finite. */
export function windowBpd(lines: Line[], at: number, window = 50): number {
  const w = lines.filter((l) => l.step > at - window && l.step <= at && !l.skipped && Number.isFinite(l.bpd));
  return w.length ? w.reduce((s, l) => s + l.bpd, 0) / w.length : NaN;
}

export function curveOf(name: string, lines: Line[], every: number, last: number): Curve {
  const steps = lines.at(-1)?.step ?? 0;
  const bpd: [number, number][] = [];
  for (let at = every; at <= Math.min(steps, last); at += every) bpd.push([at, windowBpd(lines, at)]);
  return {
    name,
    steps,
    median_images_per_s: median(lines.map((l) => l.images_per_s)),
    skipped: lines.filter((l) => l.skipped).length,
    bpd,
  };
}

async function readLog(path: string): Promise<Line[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: ${(e as { code?: string }).code === 'ENOENT' ? 'not found' : (e as Error).message}`);
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l, i) => {
      try {
        return JSON.parse(l) as Line;
      } catch {
        throw new Error(`${path}: line ${i + 1} is not JSON`);
      }
    });
}

export const trainingCurvesCommand: Subcommand = {
  usage: `training-curves <name=path.log.jsonl | path.log.jsonl> … [--every 200]
    training logs of \`farmer train\` side by side: steps, median images/s, skipped steps, and the mean
    training BPD over the 50 steps up to each multiple of --every`,
  async run({ flags, json, out }: CommandContext, args: string[]) {
    const every = flags.int('every', 200, { min: 1 });
    flags.str('backend'); // accepted by every command; this one computes in JavaScript
    flags.finish();
    if (!args.length) throw new UsageError('missing <name=path.log.jsonl>: one or more training logs');
    const runs = await Promise.all(
      args.map(async (arg) => {
        const eq = arg.indexOf('=');
        const [name, path] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, arg];
        return { name, lines: await readLog(path) };
      }),
    );
    const last = Math.max(...runs.map((r) => r.lines.at(-1)?.step ?? 0));
    const curves = runs.map((r) => curveOf(r.name, r.lines, every, last));
    if (json) {
      out(JSON.stringify({ every, runs: curves }));
      return;
    }
    for (const c of curves)
      out(`${c.name}: ${c.steps} steps, median ${c.median_images_per_s.toFixed(1)} images/s, ${c.skipped} skipped`);
    out(['step', ...curves.map((c) => c.name)].join('\t'));
    for (let at = every; at <= last; at += every)
      out([at, ...curves.map((c) => c.bpd.find(([s]) => s === at)?.[1].toFixed(3) ?? '')].join('\t'));
  },
};
