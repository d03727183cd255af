// Benchmark timing: medians over repeated runs after a warm-up (never timed assertions in tests).

export interface Timing {
  /** median seconds per run */
  median_s: number;
  runs_s: number[];
  /** images per run / median */
  images_per_s: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median wall time of `reps` runs after one warm-up; `fn` must have read its results back. */
export async function timeIt(fn: () => Promise<void>, reps: number, imagesPerRun: number): Promise<Timing> {
  await fn();
  const runs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    runs.push((performance.now() - t0) / 1000);
  }
  const m = median(runs);
  return { median_s: m, runs_s: runs, images_per_s: imagesPerRun / m };
}
