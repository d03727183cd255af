// The training curve a card keeps: at most `points` [step, mean] pairs, each the mean of a run of
// consecutive non-skipped log lines, so a long run's card stays small.

export function curveSummary<L extends { step: number; skipped: boolean }>(
  lines: readonly L[],
  value: (line: L) => number,
  points = 50,
  digits = 5,
): [number, number][] {
  const size = Math.max(1, Math.ceil(lines.length / points));
  const out: [number, number][] = [];
  for (let i = 0; i < lines.length; i += size) {
    const w = lines.slice(i, i + size).filter((l) => !l.skipped);
    if (w.length)
      out.push([w[w.length - 1].step, +(w.reduce((s, l) => s + value(l), 0) / w.length).toPrecision(digits)]);
  }
  return out;
}
