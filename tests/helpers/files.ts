// Temporary files for tests: a tiny checkpoint and .npy inputs.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint, type Card } from '../../src/lib/io/checkpoint';
import { tinyModel, type TinyOptions } from './tiny';

export function tempDir(prefix = 'farmer-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a tiny random checkpoint and returns its path and model; `card` overrides the card's fields (e.g. dataset). */
export function writeTinyCheckpoint(
  dir: string,
  name: string,
  o: TinyOptions = {},
  seed = 1,
  card: Partial<Card> = {},
) {
  const model = tinyModel(o, seed);
  const path = join(dir, name);
  writeFileSync(
    path,
    saveCheckpoint(model.config, model.params, { dataset: 'random', steps: 0, time_s: 0, seed, metrics: {}, ...card }),
  );
  return { path, model };
}

export function disposeAll(ts: Iterable<tf.Tensor>) {
  for (const t of ts) t.dispose();
}
