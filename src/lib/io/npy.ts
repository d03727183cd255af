// NumPy .npy files: read v1.0/v2.0/v3.0, write v1.0 (v2.0 when the header needs it). C order only.
// Floats are read as float32, integers as int32 (refusing values out of range), u1/b1 as uint8.
import { decodeF16 } from './float16';

/** A decoded array. `dtype` is the file's descr normalised to little-endian or `|` form, e.g. '<f8', '|u1'. */
export interface NpyArray {
  data: Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dtype: string;
}

export class NpyError extends Error {
  override name = 'NpyError';
}

const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

type Kind = 'f' | 'i' | 'u' | 'b';
/** Readable element types by kind and size in bytes. */
const readable: Record<Kind, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** A parser for the Python literal the header holds: dict, tuple/list, str, int, True/False/None. */
function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new NpyError(`header is not a Python literal (${what} at character ${i}): ${JSON.stringify(text.trim())}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{' || c === '(' || c === '[') return container(c);
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const word = /^(True|False|None|-?\d+L?)/.exec(text.slice(i));
    if (!word) return fail('unexpected token');
    i += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace('L', ''));
  };
  const container = (open: string): PyValue => {
    const close = open === '{' ? '}' : open === '(' ? ')' : ']';
    i++;
    const items: PyValue[] = [];
    const dict: { [key: string]: PyValue } = Object.create(null);
    for (;;) {
      ws();
      if (text[i] === close) break;
      const v = value();
      if (open === '{') {
        if (typeof v !== 'string') fail('non-string key');
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        dict[v as string] = value();
      } else items.push(v);
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== close) fail(`expected "," or "${close}"`);
    }
    i++;
    return open === '{' ? dict : items;
  };
  const result = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return result;
}

interface Header {
  kind: Kind;
  size: number;
  little: boolean;
  dtype: string;
  shape: number[];
}

function parseHeader(text: string): Header {
  const h = parsePyLiteral(text);
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new NpyError('header is not a dict');
  const { descr, fortran_order: fortran, shape } = h as Record<string, PyValue>;
  if (descr === undefined) throw new NpyError('header has no descr');
  if (typeof descr !== 'string')
    throw new NpyError(`unsupported dtype ${JSON.stringify(descr)} (structured dtypes are not read)`);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  const kind = m?.[2] as Kind | undefined;
  const size = Number(m?.[3]);
  if (!m || !kind || !readable[kind].includes(size))
    throw new NpyError(`unsupported dtype '${descr}' (read: f2 f4 f8 i1-i8 u1-u8 b1)`);
  if (fortran === true) throw new NpyError('fortran_order arrays are not supported; save with np.ascontiguousarray');
  if (fortran !== false) throw new NpyError('header has no fortran_order True/False');
  if (shape === undefined) throw new NpyError('header has no shape');
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && (s as number) >= 0))
    throw new NpyError(`shape ${JSON.stringify(shape)} is not a tuple of non-negative integers`);
  const little = m[1] !== '>';
  const dtype = `${size === 1 ? '|' : '<'}${kind}${size}`;
  return { kind, size, little, dtype: little ? dtype : `>${kind}${size}`, shape: shape as number[] };
}

/** Parses a .npy file; throws NpyError naming what is wrong. */
export function readNpy(input: Uint8Array | ArrayBuffer): NpyArray {
  const bytes =
    input instanceof Uint8Array
      ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
      : new Uint8Array(input);
  if (bytes.length < 10 || !magic.every((b, i) => bytes[i] === b))
    throw new NpyError('not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6];
  if (major < 1 || major > 3) throw new NpyError(`unsupported .npy version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new NpyError('file ends inside the header length');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + headerLen;
  if (start > bytes.length)
    throw new NpyError(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(
      bytes.subarray(8 + lenBytes, start),
    );
  } catch {
    throw new NpyError('header is not valid text');
  }
  const h = parseHeader(text);
  const count = h.shape.reduce((a, b) => a * b, 1);
  const need = count * h.size,
    have = bytes.length - start;
  if (have !== need)
    throw new NpyError(
      `data is ${have} bytes, but shape (${h.shape.join(', ')}) of ${h.dtype} needs ${need}${have < need ? ' (file truncated?)' : ''}`,
    );
  return {
    data: decode(new DataView(bytes.buffer, bytes.byteOffset + start, need), count, h),
    shape: h.shape,
    dtype: h.dtype,
  };
}

function decode(view: DataView, count: number, { kind, size, little }: Header): NpyArray['data'] {
  const copy = () => view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
  if (kind === 'u' && size === 1) return new Uint8Array(copy());
  if (little && size === 4 && kind === 'f') return new Float32Array(copy()); // hosts are little-endian
  if (little && size === 4 && kind === 'i') return new Int32Array(copy());
  if (kind === 'b') {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getUint8(i) ? 1 : 0;
    return out;
  }
  if (kind === 'f') {
    if (size === 2) return decodeF16(Uint16Array.from({ length: count }, (_, i) => view.getUint16(2 * i, little)));
    const out = new Float32Array(count);
    if (size === 4) for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, little);
    else for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, little);
    return out;
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let v: number;
    if (size === 8) {
      const [lo, hi] = little ? [8 * i, 8 * i + 4] : [8 * i + 4, 8 * i];
      v =
        (kind === 'i' ? view.getInt32(hi, little) : view.getUint32(hi, little)) * 2 ** 32 + view.getUint32(lo, little);
    } else if (size === 4) v = kind === 'i' ? view.getInt32(4 * i, little) : view.getUint32(4 * i, little);
    else if (size === 2) v = kind === 'i' ? view.getInt16(2 * i, little) : view.getUint16(2 * i, little);
    else v = kind === 'i' ? view.getInt8(i) : view.getUint8(i);
    if (v > 2147483647 || v < -2147483648) throw new NpyError(`value ${v} at index ${i} does not fit in int32`);
    out[i] = v;
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1,
    exp = (h >> 10) & 0x1f,
    mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Writes float32, int32 or uint8 data as a C-order .npy (v1.0, or v2.0 for a header past 65535 bytes). */
export function writeNpy(data: Float32Array | Int32Array | Uint8Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((s) => Number.isSafeInteger(s) && s >= 0)) throw new NpyError(`invalid shape [${shape.join(', ')}]`);
  if (count !== data.length) throw new NpyError(`${data.length} values do not fill shape [${shape.join(', ')}]`);
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Int32Array ? '<i4' : '|u1';
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  const major = dict.length + 12 > 65535 ? 2 : 1;
  const prefix = major === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64; // data starts 64-byte aligned, as numpy writes
  const header = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(magic);
  out[6] = major;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
