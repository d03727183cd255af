// How many images a batch holds. On a GPU backend the cost is per step, not per image, so a batch
// is as wide as both the adapter's largest buffer binding and a memory budget allow (and no wider
// than the work); wasm and cpu keep their narrow batches. Results do not depend on the width:
// every sample draws from its own stream and every image is computed row by row.
import { gpuLimits } from './webgpu/program';

/** Bytes one image adds to a batch. */
export interface Footprint {
  /** its share of the largest single buffer (one binding must hold the whole batch's) */
  largest: number;
  /** everything it keeps alive at the batch's peak */
  total: number;
}

export interface GpuMemory {
  /** the device's maxStorageBufferBindingSize */
  maxBinding: number;
  /** bytes a batch may use */
  budget: number;
}

/** Default budget for one batch: 1 GiB, well inside any discrete GPU and most integrated ones. */
export const GPU_BATCH_BUDGET = 2 ** 30;

/** min(n, ⌊maxBinding / largest⌋, ⌊budget / total⌋), at least 1. */
export function batchWidth(n: number, perImage: Footprint, memory: GpuMemory): number {
  if (!(perImage.largest > 0 && perImage.total >= perImage.largest))
    throw new Error(`invalid footprint ${JSON.stringify(perImage)}`);
  const byBinding = Math.floor(memory.maxBinding / perImage.largest);
  const byBudget = Math.floor(memory.budget / perImage.total);
  return Math.max(1, Math.min(n, byBinding, byBudget));
}

/** The active webgpu device's binding limit with `budget`; null on other backends. */
export function activeGpuMemory(budget = GPU_BATCH_BUDGET): GpuMemory | null {
  const limits = gpuLimits();
  return limits ? { maxBinding: limits.maxStorageBufferBindingSize, budget } : null;
}

/** The width for n images of `perImage`: batchWidth on webgpu, `narrow` (≤ n) elsewhere. */
export function chooseWidth(n: number, narrow: number, perImage: Footprint, budget = GPU_BATCH_BUDGET): number {
  const memory = activeGpuMemory(budget);
  return memory ? batchWidth(n, perImage, memory) : Math.max(1, Math.min(n, narrow));
}

/** Floats → a footprint in bytes. */
export function floats(largest: number, total: number): Footprint {
  return { largest: 4 * largest, total: 4 * Math.max(total, largest) };
}
