// File access for the command line: model files by path or zoo name, .npy inputs, outputs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../lib/io/checkpoint';
import { NpyError, readNpy, type NpyArray } from '../lib/io/npy';
import { isModelPath, parseZooIndex, resolveModel, ZooError, type ZooEntry, type ZooIndex } from '../lib/io/zoo';

export class FileError extends Error {
  override name = 'FileError';
}

/** The repository root, found from this file's location (src/node/). */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

/** Reads a whole file; a missing file, a folder or a permission problem is one clear FileError. */
export async function readBytes(path: string, what = 'file'): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new FileError(`${what} not found: ${path}`);
    if (code === 'EISDIR') throw new FileError(`${what} is a directory: ${path}`);
    if (code === 'EACCES' || code === 'EPERM') throw new FileError(`${what} is not readable: ${path}`);
    throw new FileError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** Writes a file, creating its folder. */
export async function writeBytes(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(resolve(path)), { recursive: true });
    await writeFile(path, bytes);
  } catch (e) {
    throw new FileError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

/** static/models/index.json under `root`, or null when there is none. */
export async function readZooIndex(root = repoRoot()): Promise<ZooIndex | null> {
  const path = join(root, 'static', 'models', 'index.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw new FileError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return parseZooIndex(JSON.parse(text));
  } catch (e) {
    throw new ZooError(`${path}: ${(e as Error).message}`);
  }
}

export interface ModelFile {
  bytes: Uint8Array;
  /** the path read, for error messages */
  source: string;
  /** the zoo entry, when `<model>` was a name */
  entry?: ZooEntry;
}

/** Reads `<model>`: a .safetensors path (relative to the working directory) or a zoo name. */
export async function readModelFile(arg: string, { root = repoRoot() }: { root?: string } = {}): Promise<ModelFile> {
  const ref = resolveModel(arg, isModelPath(arg) ? null : await readZooIndex(root));
  if (ref.kind === 'file') return { bytes: await readBytes(ref.path, 'model file'), source: ref.path };
  const path = join(root, 'static', 'models', ref.entry.file);
  return { bytes: await readBytes(path, `model file of "${ref.entry.name}"`), source: path, entry: ref.entry };
}

/** Reads and checks `<model>`, returning float32 tf tensors (see loadCheckpoint). */
export async function loadModel(arg: string, options?: { root?: string }) {
  const { bytes, source, entry } = await readModelFile(arg, options);
  return { ...loadCheckpoint(bytes, source), source, entry };
}

/** Reads a .npy file; malformed contents are an NpyError that names the file. */
export async function readNpyFile(path: string): Promise<NpyArray> {
  const bytes = await readBytes(path, '.npy file');
  try {
    return readNpy(bytes);
  } catch (e) {
    if (e instanceof NpyError) throw new NpyError(`${path}: ${e.message}`);
    throw e;
  }
}
