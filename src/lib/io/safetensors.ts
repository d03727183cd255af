// The safetensors container: u64 LE header length N, N bytes of JSON header, then the byte buffer.
// Browser-safe (no Node APIs). Tensor data is little-endian, as on every platform tfjs runs on.
import { decodeBF16, decodeF16, encodeF16 } from './float16';

/** Every dtype of the safetensors format, with its size in bytes. */
export const dtypeBytes = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

export type Dtype = keyof typeof dtypeBytes;

/** One tensor as the header describes it. */
export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** byte range [begin, end) relative to the start of the byte buffer */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  /** the `__metadata__` string map; empty when absent */
  metadata: Record<string, string>;
  /** tensors in header order */
  tensors: TensorInfo[];
  /** the byte buffer after the header (a view, not a copy) */
  data: Uint8Array;
  /** total file size in bytes */
  fileBytes: number;
}

/** Decoded tensor values: floats as float32, I8…I32/U16 as int32, U8/BOOL as uint8, I64/U64 as their BigInt arrays. */
export type TensorValues = Float32Array | Int32Array | Uint32Array | Uint8Array | BigInt64Array | BigUint64Array;

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Headers above this are refused before decoding (the Rust reference uses the same bound). */
export const maxHeaderBytes = 100_000_000;

export function toBytes(input: Uint8Array | ArrayBuffer): Uint8Array {
  // A plain view, so that Node Buffers (whose slice() does not copy) behave like Uint8Arrays.
  return input instanceof Uint8Array
    ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8Array(input);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shapeText = (shape: number[]) => `[${shape.join(', ')}]`;

/** Parses and checks the container (lengths, JSON, dtypes, shapes, offsets); decodes no tensor data. */
export function parseSafetensors(input: Uint8Array | ArrayBuffer): SafetensorsFile {
  const bytes = toBytes(input);
  const size = bytes.byteLength;
  if (size < 8) throw new SafetensorsError(`file is ${size} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const lo = view.getUint32(0, true),
    hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo; // exact below 2^53; larger values fail the checks below all the same
  if (n > maxHeaderBytes)
    throw new SafetensorsError(
      `header length ${n} bytes is absurdly large (limit ${maxHeaderBytes}, file is ${size} bytes)`,
    );
  if (n > size - 8)
    throw new SafetensorsError(
      `header length ${n} bytes runs past the end of the file (${size} bytes): truncated or not a safetensors file`,
    );
  if (n < 2) throw new SafetensorsError(`header length ${n} bytes is too short for a JSON object`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) throw new SafetensorsError('header is not a JSON object');

  const data = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(entry)) throw new SafetensorsError('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.push(tensorInfo(name, entry, data.byteLength));
  }
  checkOverlaps(tensors);
  return { metadata, tensors, data, fileBytes: size };
}

function tensorInfo(name: string, entry: unknown, dataBytes: number): TensorInfo {
  const bad = (what: string) => new SafetensorsError(`tensor ${name}: ${what}`);
  if (!isObject(entry)) throw bad('header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string' || !Object.hasOwn(dtypeBytes, dtype))
    throw bad(`unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0))
    throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
    throw bad(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw bad(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes)
    throw bad(`data_offsets [${begin}, ${end}] run past the end of the data (${dataBytes} bytes): file truncated?`);
  const expected = (shape as number[]).reduce((a, b) => a * b, 1) * dtypeBytes[dtype as Dtype];
  if (end - begin !== expected)
    throw bad(
      `data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape ${shapeText(shape)} of ${dtype} needs ${expected}`,
    );
  return { name, dtype: dtype as Dtype, shape: shape as number[], begin, end };
}

function checkOverlaps(tensors: TensorInfo[]): void {
  const sorted = tensors.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const [p, t] = [sorted[i - 1], sorted[i]];
    if (t.begin < p.end)
      throw new SafetensorsError(
        `tensor ${t.name}: data_offsets [${t.begin}, ${t.end}] overlap those of ${p.name} [${p.begin}, ${p.end}]`,
      );
  }
}

/** A copy of a tensor's bytes in a fresh, aligned buffer. */
function copyBytes(file: SafetensorsFile, t: TensorInfo): ArrayBuffer {
  const out = new Uint8Array(t.end - t.begin);
  out.set(file.data.subarray(t.begin, t.end));
  return out.buffer;
}

/** Decodes one tensor (see TensorValues for the array type per dtype). */
export function readTensor(file: SafetensorsFile, t: TensorInfo): TensorValues {
  const buf = copyBytes(file, t);
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'F16':
      return decodeF16(new Uint16Array(buf));
    case 'BF16':
      return decodeBF16(new Uint16Array(buf));
    case 'F64':
      return Float32Array.from(new Float64Array(buf));
    case 'I32':
      return new Int32Array(buf);
    case 'U32':
      return new Uint32Array(buf);
    case 'I16':
      return Int32Array.from(new Int16Array(buf));
    case 'U16':
      return Int32Array.from(new Uint16Array(buf));
    case 'I8':
      return Int32Array.from(new Int8Array(buf));
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buf);
    case 'I64':
      return new BigInt64Array(buf);
    case 'U64':
      return new BigUint64Array(buf);
    default:
      throw new SafetensorsError(`tensor ${t.name}: reading dtype ${t.dtype} is not supported`);
  }
}

/** Decodes a floating-point tensor (F32, F16, BF16, F64) to float32; other dtypes are refused. */
export function readFloat32(file: SafetensorsFile, t: TensorInfo): Float32Array {
  if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16' && t.dtype !== 'F64')
    throw new SafetensorsError(`tensor ${t.name}: dtype ${t.dtype} is not a floating-point type`);
  return readTensor(file, t) as Float32Array;
}

/** A tensor to write. F16 takes float32 values (encoded here) or raw binary16 bits. */
export type TensorToWrite =
  | { dtype: 'F32'; shape: number[]; data: Float32Array }
  | { dtype: 'F16'; shape: number[]; data: Float32Array | Uint16Array }
  | { dtype: 'I32'; shape: number[]; data: Int32Array }
  | { dtype: 'U8'; shape: number[]; data: Uint8Array };

/** Writes tensors contiguously in the given order; the header is space-padded to a multiple of 8. */
export function serializeSafetensors(
  tensors: Iterable<[string, TensorToWrite]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__' || seen.has(name))
      throw new SafetensorsError(`tensor name ${JSON.stringify(name)} is reserved or repeated`);
    seen.add(name);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count)
      throw new SafetensorsError(`tensor ${name}: ${t.data.length} values do not fill shape ${shapeText(t.shape)}`);
    const data = t.dtype === 'F16' && t.data instanceof Float32Array ? encodeF16(t.data) : t.data;
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    Object.defineProperty(header, name, {
      value: { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + raw.byteLength] },
      enumerable: true,
    });
    chunks.push(raw);
    offset += raw.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setUint32(0, padded, true); // the upper 32 bits stay 0
  out.fill(0x20, 8, 8 + padded);
  out.set(json, 8);
  let at = 8 + padded;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
