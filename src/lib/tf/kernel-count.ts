// How many kernels a piece of work launches: what a dispatch-bound backend (tfjs on WebGPU pays
// about 90 µs a kernel) is charged for, independent of how fast the adapter computes.
import * as tf from '@tensorflow/tfjs';

export interface KernelCount {
  /** tfjs kernels run (tf.profile), Reshape and Identity left out: they only relabel a buffer */
  engine: number;
  /** compute passes the webgpu backend dispatched (every runWebGPUProgram); null on other backends */
  dispatches: number | null;
  /** engine kernels by name, most frequent first */
  byName: [string, number][];
}

const RELABEL = new Set(['Reshape', 'Identity']);

interface ProgramRunner {
  runWebGPUProgram: (...args: unknown[]) => unknown;
}

/** Runs `work` once and counts the kernels it launched. */
export async function countKernels(work: () => Promise<unknown> | unknown): Promise<KernelCount> {
  const backend = tf.backend() as unknown as Partial<ProgramRunner>;
  const gpu = tf.getBackend() === 'webgpu' && typeof backend.runWebGPUProgram === 'function';
  let dispatches = 0;
  const original = backend.runWebGPUProgram;
  if (gpu) {
    backend.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
      dispatches++;
      return original!.apply(this, args);
    };
  }
  try {
    const profile = await tf.profile(async () => {
      await work();
    });
    const names = new Map<string, number>();
    for (const k of profile.kernels) if (!RELABEL.has(k.name)) names.set(k.name, (names.get(k.name) ?? 0) + 1);
    const byName = [...names].sort((a, b) => b[1] - a[1]);
    return { engine: byName.reduce((s, [, n]) => s + n, 0), dispatches: gpu ? dispatches : null, byName };
  } finally {
    if (gpu) backend.runWebGPUProgram = original;
  }
}
