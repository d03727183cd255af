import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src/lib/farmer/params';
import { disposeParams } from '../../src/lib/nn/params';
import { CheckpointError, saveCheckpoint } from '../../src/lib/io/checkpoint';
import {
  FileError,
  loadModel,
  readModelFile,
  readNpyFile,
  readZooIndex,
  repoRoot,
  writeBytes,
} from '../../src/node/files';
import { NpyError } from '../../src/lib/io/npy';
import { parseZooIndex, resolveModel, ZooError, type ZooIndex } from '../../src/lib/io/zoo';
import { tinyCard, tinyConfig } from './helpers';

const entry = (name: string, file = `${name}.safetensors`) => ({
  name,
  file,
  title: `The ${name}`,
  description: 'A test model.',
  dataset: 'mnist',
});

describe('zoo index and <model> resolution', () => {
  const index: ZooIndex = parseZooIndex({
    models: [entry('mnist-farmer'), { ...entry('tarflow'), bytes: 10, metrics: { bpd_test: 1.1 } }],
  });

  it('resolves paths and names', () => {
    expect(resolveModel('runs/a.safetensors', index)).toEqual({ kind: 'file', path: 'runs/a.safetensors' });
    expect(resolveModel('a.safetensors', null)).toEqual({ kind: 'file', path: 'a.safetensors' });
    expect(resolveModel('./mnist-farmer', index)).toEqual({ kind: 'file', path: './mnist-farmer' });
    expect(resolveModel('tarflow', index)).toEqual({
      kind: 'zoo',
      entry: { ...entry('tarflow'), bytes: 10, metrics: { bpd_test: 1.1 } },
    });
  });

  it('lists the available names for an unknown one', () => {
    expect(() => resolveModel('mnist', index)).toThrow(ZooError);
    expect(() => resolveModel('mnist', index)).toThrow(
      'unknown model "mnist" (available: mnist-farmer, tarflow; or give a path to a .safetensors file)',
    );
    expect(() => resolveModel('mnist', null)).toThrow(/the model zoo is empty/);
  });

  it('refuses malformed index entries, naming the field', () => {
    expect(() => parseZooIndex([])).toThrow(/expected \{ "models": \[...\] \}/);
    expect(() => parseZooIndex({ models: [entry('a'), entry('a')] })).toThrow(/name "a" appears twice/);
    expect(() => parseZooIndex({ models: [{ ...entry('a'), title: 3 }] })).toThrow(
      /models\[0\]\.title must be a non-empty string/,
    );
    expect(() => parseZooIndex({ models: [{ ...entry('a'), sha265: 'x' }] })).toThrow(
      'model index: models[0]: unknown key "sha265" (known: name, file, title, description, dataset, bytes, sha256, metrics, summary)',
    );
    expect(() => parseZooIndex({ models: [], version: 2 })).toThrow(
      'model index: unknown key "version" (known: models)',
    );
    expect(() => parseZooIndex({ models: [entry('a', '../secret.safetensors')] })).toThrow(/models\[0\]\.file/);
    expect(() => parseZooIndex({ models: [entry('a', 'a.bin')] })).toThrow(/models\[0\]\.file/);
    expect(() => parseZooIndex({ models: [entry('a/b')] })).toThrow(/models\[0\]\.name/);
    expect(() => parseZooIndex({ models: [{ ...entry('a'), sha256: 'xyz' }] })).toThrow(/sha256/);
  });
});

describe('reading model files from disk', () => {
  let root: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    root = mkdtempSync(join(tmpdir(), 'zoo-'));
    mkdirSync(join(root, 'static', 'models', 'sub'), { recursive: true });
    writeFileSync(
      join(root, 'static', 'models', 'index.json'),
      JSON.stringify({ models: [entry('tiny', 'sub/tiny.safetensors'), entry('gone')] }),
    );
    const params = initParams(tinyConfig(), { seed: 2 });
    await writeBytes(
      join(root, 'static', 'models', 'sub', 'tiny.safetensors'),
      saveCheckpoint(tinyConfig(), params, tinyCard()),
    );
    disposeParams(params);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds the repository root from its own location', () => {
    expect(relative(repoRoot(), join(__dirname, '..', '..'))).toBe('');
  });

  it('reads a zoo entry by name and a file by path', async () => {
    const byName = await readModelFile('tiny', { root });
    expect(byName.entry?.name).toBe('tiny');
    expect(byName.source).toBe(join(root, 'static', 'models', 'sub', 'tiny.safetensors'));
    const byPath = await readModelFile(byName.source, { root });
    expect(byPath.bytes).toEqual(byName.bytes);
    expect(byPath.entry).toBeUndefined();
    const { params, config, entry: e } = await loadModel('tiny', { root });
    expect(config).toEqual(tinyConfig());
    expect(e?.title).toBe('The tiny');
    disposeParams(params);
  });

  it('gives one clear error for a missing file, an unknown name, a directory, a bad index', async () => {
    await expect(readModelFile(join(root, 'nope.safetensors'), { root })).rejects.toThrow(FileError);
    await expect(readModelFile(join(root, 'nope.safetensors'), { root })).rejects.toThrow(
      /model file not found: .*nope\.safetensors/,
    );
    await expect(readModelFile('gone', { root })).rejects.toThrow(/model file of "gone" not found/);
    await expect(readModelFile('what', { root })).rejects.toThrow('unknown model "what" (available: tiny, gone;');
    await expect(readModelFile(join(root, 'static') + '/', { root })).rejects.toThrow(/is a directory/);
    await expect(readModelFile('tiny', { root: join(root, 'elsewhere') })).rejects.toThrow(/the model zoo is empty/);
    const broken = join(root, 'broken');
    mkdirSync(join(broken, 'static', 'models'), { recursive: true });
    writeFileSync(join(broken, 'static', 'models', 'index.json'), '{"models": [');
    await expect(readZooIndex(broken)).rejects.toThrow(/index\.json: /);
    writeFileSync(join(root, 'junk.safetensors'), 'not a model');
    await expect(loadModel(join(root, 'junk.safetensors'))).rejects.toThrow(CheckpointError);
    await expect(loadModel(join(root, 'junk.safetensors'))).rejects.toThrow(
      /junk\.safetensors: header length \d+ bytes is absurdly large/,
    );
  });

  it('reads .npy files, naming the file in errors', async () => {
    writeFileSync(join(root, 'x.npy'), 'garbage!!!!');
    await expect(readNpyFile(join(root, 'x.npy'))).rejects.toThrow(NpyError);
    await expect(readNpyFile(join(root, 'x.npy'))).rejects.toThrow(/x\.npy: not a \.npy file/);
    await expect(readNpyFile(join(root, 'y.npy'))).rejects.toThrow(/\.npy file not found/);
  });
});
