// What every engine command shares: backend choice, model loading, pixel conversion.
import * as tf from '@tensorflow/tfjs';
import { isBackendName, type BackendReport } from '../lib/tf/backend';
import { useBackend } from '../node/backend';
import { loadModel } from '../node/files';
import { makeModel, type FarmerModel } from '../lib/farmer/model';
import type { Card, CheckpointSummary } from '../lib/io/checkpoint';
import { UsageError, type Flags } from './args';

/** --backend (default wasm, the fast one in Node); a named backend that fails is an error, not a silent fallback. */
export async function setupBackend(flags: Flags): Promise<BackendReport> {
  const name = flags.str('backend', 'wasm');
  if (!isBackendName(name)) throw new UsageError(`--backend must be cpu, wasm or webgpu, got "${name}"`);
  return useBackend(name);
}

export interface LoadedModel {
  model: FarmerModel;
  card: Card;
  summary: CheckpointSummary;
  source: string;
}

export async function openModel(arg: string | undefined): Promise<LoadedModel> {
  if (!arg) throw new UsageError('missing <model>: a .safetensors path or a name from static/models/index.json');
  const { config, params, card, summary, source } = await loadModel(arg);
  return { model: makeModel(config, params), card, summary, source };
}

/** Runs `fn` over [0, n) in chunks of `size`. */
export async function inChunks(
  n: number,
  size: number,
  fn: (start: number, count: number) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < n; start += size) await fn(start, Math.min(size, n - start));
}

export function disposeModel(m: FarmerModel): void {
  tf.dispose([...m.params.values()]);
}

/** A terminal progress line with ETA on stderr (only when stderr is a terminal). */
export function progressBar(label: string, total: number): { tick: (done: number) => void; end: () => void } {
  const start = performance.now();
  const tty = process.stderr.isTTY;
  return {
    tick(done) {
      if (!tty) return;
      const frac = Math.min(1, done / total);
      const elapsed = (performance.now() - start) / 1000;
      const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : 0;
      const bar = '#'.repeat(Math.round(frac * 24)).padEnd(24, '.');
      process.stderr.write(
        `\r${label} [${bar}] ${done}/${total}  ${elapsed.toFixed(1)}s elapsed, ETA ${eta.toFixed(1)}s `,
      );
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}
