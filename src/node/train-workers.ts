// Worker threads that compute shard gradients for `farmer train --workers N` (data-parallel.ts):
// each thread runs its own TensorFlow.js backend and copy of the model, receives the current
// weights and its shard every step, and sends back its flat gradient. Node only.
import { Worker } from 'node:worker_threads';
import type { FarmerConfig } from '../lib/farmer/config';
import type { BackendName } from '../lib/tf/backend';
import type { GradientHelpers, Shard, ShardGradients } from '../lib/train/data-parallel';
import type { HelperReply, HelperRequest } from './train-worker';

interface Pending {
  resolve: (r: ShardGradients) => void;
  reject: (e: Error) => void;
}

class ThreadHelper {
  private readonly worker: Worker;
  private pending: Pending | null = null;
  private ready: Promise<void>;
  private failure: Error | null = null;

  constructor(index: number, config: FarmerConfig, backend: BackendName) {
    this.worker = new Worker(new URL('./train-worker-entry.mjs', import.meta.url));
    this.ready = new Promise((resolve, reject) => {
      this.pending = { resolve: () => resolve(), reject };
    });
    this.worker.on('message', (m: HelperReply) => {
      const p = this.pending;
      this.pending = null;
      if (!p) return;
      if (m.kind === 'error') p.reject(new Error(`training worker ${index}: ${m.message}`));
      else if (m.kind === 'ready') p.resolve(undefined as unknown as ShardGradients);
      else p.resolve(m.result);
    });
    const fail = (e: Error) => {
      this.failure = e;
      this.pending?.reject(e);
      this.pending = null;
    };
    this.worker.on('error', (e) => fail(new Error(`training worker ${index} failed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`training worker ${index} exited (code ${code})`)));
    this.post({ kind: 'init', config, backend });
  }

  private post(m: HelperRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  async started(): Promise<void> {
    await this.ready;
  }

  gradients(weights: Float32Array, shard: Shard): Promise<ShardGradients> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('training worker busy'));
    const p = new Promise<ShardGradients>((resolve, reject) => (this.pending = { resolve, reject }));
    const x = shard.x.slice();
    this.post({ kind: 'step', weights, x, n: shard.n, labels: shard.labels ? shard.labels.slice() : null }, [
      x.buffer as ArrayBuffer,
    ]);
    return p;
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/** `count` worker threads, each with `backend` and a copy of the model of `config`, ready to compute shards. */
export async function startGradientThreads(
  count: number,
  config: FarmerConfig,
  backend: BackendName,
): Promise<GradientHelpers> {
  const threads = Array.from({ length: count }, (_, i) => new ThreadHelper(i + 1, config, backend));
  try {
    await Promise.all(threads.map((t) => t.started()));
  } catch (e) {
    await Promise.all(threads.map((t) => t.stop()));
    throw e;
  }
  return {
    count,
    gradients(weights, shards) {
      if (shards.length !== count) throw new Error(`${shards.length} shards for ${count} training workers`);
      return Promise.all(shards.map((s, i) => threads[i].gradients(weights, s)));
    },
    async dispose() {
      await Promise.all(threads.map((t) => t.stop()));
    },
  };
}
