// The compact image-set file the browser loads from static/data/ (browser-safe).
// Little-endian; a 32-byte header, then the images, then the labels:
//   0  magic "FWDS"        4  version (uint32, 1)    8  n       12 height
//   16 width               20 channels               24 number of classes   28 reserved (0)
//   32 images uint8 [n, height, width, channels]      then labels uint8 [n]
import { DataFormatError, type ImageSet } from './idx';

const MAGIC = 'FWDS';
const HEADER = 32;

export interface LabelledSet extends ImageSet {
  numClasses: number;
}

export function encodeDatasetBin(set: ImageSet, numClasses: number): Uint8Array {
  const size = set.n * set.height * set.width * set.channels;
  if (set.images.length !== size || set.labels.length !== set.n)
    throw new Error('encodeDatasetBin: array sizes do not match the shape');
  const out = new Uint8Array(HEADER + size + set.n);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  [1, set.n, set.height, set.width, set.channels, numClasses, 0].forEach((v, i) => view.setUint32(4 + 4 * i, v, true));
  out.set(set.images, HEADER);
  out.set(set.labels, HEADER + size);
  return out;
}

/** Parses a dataset file; `what` names it in errors (e.g. its URL). Arrays are views into `bytes`. */
export function parseDatasetBin(bytes: Uint8Array, what = 'dataset file'): LabelledSet {
  if (bytes.length < HEADER)
    throw new DataFormatError(`${what}: ${bytes.length} bytes, too short for the 32-byte header`);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== MAGIC) {
    const hint =
      bytes[0] === 0x3c
        ? ' (got HTML: wrong URL, or the file was not built — run `npx tsx scripts/build-data.ts`)'
        : '';
    throw new DataFormatError(`${what}: not a dataset file (magic "${magic}")${hint}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [version, n, height, width, channels, numClasses] = Array.from({ length: 6 }, (_, i) =>
    view.getUint32(4 + 4 * i, true),
  );
  if (version !== 1) throw new DataFormatError(`${what}: unsupported version ${version}`);
  const size = n * height * width * channels;
  if (bytes.length !== HEADER + size + n)
    throw new DataFormatError(
      `${what}: header says ${n}×${height}×${width}×${channels} images + labels (${HEADER + size + n} bytes), file has ${bytes.length}`,
    );
  const labels = bytes.subarray(HEADER + size);
  for (let i = 0; i < n; i++)
    if (labels[i] >= numClasses)
      throw new DataFormatError(`${what}: label ${labels[i]} of image ${i} is not below ${numClasses}`);
  return { n, height, width, channels, numClasses, images: bytes.subarray(HEADER, HEADER + size), labels };
}
