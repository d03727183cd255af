// Benchmark timing: medians over repeated runs after a warm-up (never timed assertions in tests).
import { median } from '../lib/metrics/robust';

export interface Timing {
  /** median seconds per run */
  median_s: number;
  runs_s: number[];
  /** images per run / median */
  images_per_s: number;
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
