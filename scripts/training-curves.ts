// Training logs side by side (the <out>.log.jsonl files of `farmer train`): per run the steps,
// the median images/s, and the mean training BPD over the 50 steps before each checkpoint step,
// so runs with the same schedule can be compared at equal steps.
// Run: npx tsx scripts/training-curves.ts name=path/to/model.safetensors.log.jsonl … [--every 200]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Line { step: number; bpd: number; images_per_s: number; skipped: boolean }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { every: { type: 'string', default: '200' } } });
const every = Number(values.every);
const runs = positionals.map((arg) => {
  const [name, path] = arg.includes('=') ? arg.split('=', 2) : [arg, arg];
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  return { name, lines };
});
const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN; };
const windowBpd = (lines: Line[], at: number) => {
  const w = lines.filter((l) => l.step > at - 50 && l.step <= at && !l.skipped && Number.isFinite(l.bpd));
  return w.length ? w.reduce((s, l) => s + l.bpd, 0) / w.length : NaN;
};
for (const r of runs)
  console.log(`${r.name}: ${r.lines.at(-1)?.step ?? 0} steps, median ${median(r.lines.map((l) => l.images_per_s)).toFixed(1)} images/s, ${r.lines.filter((l) => l.skipped).length} skipped`);
const last = Math.max(...runs.map((r) => r.lines.at(-1)?.step ?? 0));
console.log(['step', ...runs.map((r) => r.name)].join('\t'));
for (let at = every; at <= last; at += every)
  console.log([at, ...runs.map((r) => ((r.lines.at(-1)?.step ?? 0) >= at ? windowBpd(r.lines, at).toFixed(3) : ''))].join('\t'));
