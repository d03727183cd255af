// Files both sides read: the twin reads the checkpoints the engine writes (F32 and F16) and writes
// ones the engine reads back to the same values (F16 rounded as the engine rounds), and Colored
// MNIST as the twin derives it equals the engine's byte for byte (SHA-256 of both splits).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { encodeCheckpoint, readCheckpoint } from '../../src/lib/io/checkpoint';
import { decodeF16, encodeF16 } from '../../src/lib/io/float16';
import { loadDataset } from '../../src/node/datasets';
import { tempDir } from '../helpers/files';
import { tinyModel } from '../helpers/tiny';
import { describeTwin, runPython, twinMany, type Run } from './twin';

const HASH_SCRIPT = `
import hashlib, json
from farmer_torch.data import load_dataset
out = {}
for split in ("train", "test"):
    images, labels = load_dataset("colored-mnist", split)
    out[split] = {"shape": list(images.shape), "images": hashlib.sha256(images.tobytes()).hexdigest(),
                  "labels": hashlib.sha256(labels.astype("uint8").tobytes()).hexdigest()}
print(json.dumps(out))`;

let dir: string;
let original: Map<string, Float32Array>;
let resaved: Run[];
let hashes: Promise<Run>;

describeTwin('files shared by the twin and the engine', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = tempDir('farmer-twin-files-');
    hashes = runPython(['-c', HASH_SCRIPT]);
    const model = tinyModel({ blocks: 3, classConditionalAf: true, channels: 3, informative: 5 }, 8);
    original = new Map([...model.params].map(([n, t]) => [n, t.dataSync() as Float32Array]));
    tf.dispose([...model.params.values()]);
    const card = { dataset: 'random', steps: 5, time_s: 1, seed: 8, metrics: { note: 'written by the engine' } };
    writeFileSync(join(dir, 'e32.safetensors'), encodeCheckpoint(model.config, original, card));
    writeFileSync(join(dir, 'e16.safetensors'), encodeCheckpoint(model.config, original, card, { dtype: 'F16' }));
    resaved = await twinMany(
      ['e32', 'e16'].map((n) => [
        'tests/twin/resave.py',
        join(dir, `${n}.safetensors`),
        join(dir, `${n}-t32.safetensors`),
        join(dir, `${n}-t16.safetensors`),
      ]),
    );
  });

  const read = (name: string) => readCheckpoint(readFileSync(join(dir, name)));

  it('the twin reads F32 and F16 checkpoints of the engine and writes F32 files the engine reads to the same values', () => {
    for (const r of resaved) expect(r.code, r.stderr).toBe(0);
    const e16 = read('e16.safetensors');
    for (const [source, expected] of [
      ['e32', (n: string) => original.get(n)!],
      ['e16', (n: string) => e16.weights.get(n)!.values],
    ] as const) {
      const back = read(`${source}-t32.safetensors`);
      expect(back.summary.dtypes).toEqual({ F32: original.size });
      expect(back.config).toEqual(read(`${source}.safetensors`).config);
      expect(back.card).toEqual(read(`${source}.safetensors`).card);
      expect([...back.weights.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [name, { values }] of back.weights) expect(values, `${source} ${name}`).toEqual(expected(name));
    }
  });

  it('F16 files of the twin hold the bit patterns the engine would write', () => {
    const back = read('e32-t16.safetensors');
    expect(back.summary.dtypes).toEqual({ F16: original.size });
    let rounded = 0;
    for (const [name, { values }] of back.weights) {
      const engine = decodeF16(encodeF16(original.get(name)!));
      expect(values, name).toEqual(engine);
      rounded += engine.filter((v, i) => v !== original.get(name)![i]).length;
    }
    expect(rounded).toBeGreaterThan(100); // F16 really rounds these values
    // and F16 read back and written again is unchanged
    for (const [name, { values }] of read('e16-t16.safetensors').weights)
      expect(values, name).toEqual(read('e16.safetensors').weights.get(name)!.values);
  });

  it("Colored MNIST: both splits equal the engine's byte for byte (SHA-256)", async () => {
    const r = await hashes;
    expect(r.code, r.stderr).toBe(0);
    const twin = JSON.parse(r.stdout) as Record<string, { shape: number[]; images: string; labels: string }>;
    for (const split of ['train', 'test'] as const) {
      const set = loadDataset('colored-mnist', split);
      const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
      expect(twin[split].shape, split).toEqual([set.n, 28, 28, 3]);
      expect(twin[split].images, split).toBe(sha(set.images));
      expect(twin[split].labels, split).toBe(sha(Uint8Array.from(set.labels)));
    }
  });
});
