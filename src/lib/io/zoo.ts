// The model zoo index (static/models/index.json) and the resolution of a `<model>` argument (README, "Command line").
// Browser-safe; Node file reading lives in src/node/files.ts.

/** One pretrained model. */
export interface ZooEntry {
  /** command-line name, e.g. "mnist-farmer" (letters, digits, `.`, `_`, `-`) */
  name: string;
  /** checkpoint path relative to static/models/, ending in .safetensors */
  file: string;
  /** one-line title for people */
  title: string;
  /** what the model is and how it was trained, a sentence or two */
  description: string;
  /** dataset name as `--dataset` takes it, e.g. "mnist" */
  dataset: string;
  /** file size in bytes, for download progress; optional */
  bytes?: number;
  /** lowercase hex SHA-256 of the file; optional */
  sha256?: string;
  /** headline metrics copied from the card, e.g. { "bpd_test": 1.05 }; optional */
  metrics?: Record<string, number>;
  /** short architecture line, e.g. "AF 4×2 W128 + FARMER prior K16"; optional */
  summary?: string;
}

/** The whole index file: `{ "models": [ZooEntry, …] }`. */
export interface ZooIndex {
  models: ZooEntry[];
}

export class ZooError extends Error {
  override name = 'ZooError';
}

/** Where a `<model>` argument points. */
export type ModelRef = { kind: 'file'; path: string } | { kind: 'zoo'; entry: ZooEntry };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ENTRY_KEYS = ['name', 'file', 'title', 'description', 'dataset', 'bytes', 'sha256', 'metrics', 'summary'];

/** Checks an index file's contents and returns a normalised copy; throws ZooError naming the bad field. */
export function parseZooIndex(raw: unknown): ZooIndex {
  if (!isObject(raw) || !Array.isArray(raw.models)) throw new ZooError('model index: expected { "models": [...] }');
  for (const key of Object.keys(raw))
    if (key !== 'models') throw new ZooError(`model index: unknown key "${key}" (known: models)`);
  const names = new Set<string>();
  const models = raw.models.map((m, i): ZooEntry => {
    const where = `model index: models[${i}]`;
    if (!isObject(m)) throw new ZooError(`${where} is not an object`);
    for (const key of Object.keys(m))
      if (!ENTRY_KEYS.includes(key))
        throw new ZooError(`${where}: unknown key "${key}" (known: ${ENTRY_KEYS.join(', ')})`);
    const str = (key: string): string => {
      if (typeof m[key] !== 'string' || m[key] === '') throw new ZooError(`${where}.${key} must be a non-empty string`);
      return m[key] as string;
    };
    const name = str('name');
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name.endsWith('.safetensors'))
      throw new ZooError(
        `${where}.name "${name}" must be letters, digits, ".", "_" or "-" and not end in .safetensors`,
      );
    if (names.has(name)) throw new ZooError(`model index: name "${name}" appears twice`);
    names.add(name);
    const file = str('file');
    if (
      !file.endsWith('.safetensors') ||
      file.startsWith('/') ||
      file.split(/[\\/]/).includes('..') ||
      /^[a-z]+:/i.test(file)
    )
      throw new ZooError(`${where}.file "${file}" must be a relative .safetensors path inside static/models/`);
    const entry: ZooEntry = {
      name,
      file,
      title: str('title'),
      description: str('description'),
      dataset: str('dataset'),
    };
    if (m.bytes !== undefined) {
      if (!Number.isSafeInteger(m.bytes) || (m.bytes as number) < 0)
        throw new ZooError(`${where}.bytes must be a non-negative integer`);
      entry.bytes = m.bytes as number;
    }
    if (m.sha256 !== undefined) {
      if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256))
        throw new ZooError(`${where}.sha256 must be 64 lowercase hex digits`);
      entry.sha256 = m.sha256;
    }
    if (m.metrics !== undefined) {
      if (!isObject(m.metrics) || !Object.values(m.metrics).every((v) => typeof v === 'number'))
        throw new ZooError(`${where}.metrics must be an object of numbers`);
      entry.metrics = { ...(m.metrics as Record<string, number>) };
    }
    if (m.summary !== undefined) entry.summary = str('summary');
    return entry;
  });
  return { models };
}

/** A `<model>` argument is a file path when it ends in .safetensors or contains a path separator. */
export function isModelPath(arg: string): boolean {
  return arg.endsWith('.safetensors') || arg.includes('/') || arg.includes('\\');
}

/** Resolves `<model>` to a file path or a zoo entry; an unknown name lists the available ones. */
export function resolveModel(arg: string, index: ZooIndex | null): ModelRef {
  if (arg === '') throw new ZooError('empty model name');
  if (isModelPath(arg)) return { kind: 'file', path: arg };
  const entry = index?.models.find((m) => m.name === arg);
  if (entry) return { kind: 'zoo', entry };
  const names = index?.models.map((m) => m.name) ?? [];
  const available = names.length > 0 ? `available: ${names.join(', ')}` : 'the model zoo is empty';
  throw new ZooError(`unknown model "${arg}" (${available}; or give a path to a .safetensors file)`);
}

/** The URL or path of an entry's file, given the folder that holds index.json (e.g. "/models/"). */
export function entryLocation(entry: ZooEntry, base: string): string {
  return base.endsWith('/') ? base + entry.file : `${base}/${entry.file}`;
}
