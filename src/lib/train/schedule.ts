// Learning-rate schedule: linear warm-up, then cosine decay to lrMin.

export interface Schedule {
  lr: number;
  lrMin: number;
  warmup: number;
  steps: number;
}

/** Learning rate for step t (0-based). */
export function learningRate({ lr, lrMin, warmup, steps }: Schedule, t: number): number {
  if (t < warmup) return (lr * (t + 1)) / warmup;
  const progress = Math.min(1, (t - warmup) / Math.max(1, steps - warmup));
  return lrMin + ((lr - lrMin) * (1 + Math.cos(Math.PI * progress))) / 2;
}
