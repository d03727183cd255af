// Parser of the IDX format of the original MNIST files (browser-safe: bytes in, arrays out).
// Layout: magic = [0, 0, type, rank] (type 0x08 = uint8), then `rank` big-endian uint32 sizes,
// then the values in row-major order.

export class DataFormatError extends Error {
  override name = 'DataFormatError';
}

export interface IdxArray {
  /** sizes, e.g. [60000, 28, 28] for images, [60000] for labels */
  shape: number[];
  /** the values, row-major; a view into the input bytes */
  data: Uint8Array;
}

/** Parses uint8 IDX bytes; `what` names the source in error messages. */
export function parseIdx(bytes: Uint8Array, what = 'IDX data'): IdxArray {
  if (bytes.length < 4) throw new DataFormatError(`${what}: too short for an IDX header (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new DataFormatError(`${what}: not an IDX file (bad magic; gzip-compressed?)`);
  if (bytes[2] !== 0x08) throw new DataFormatError(`${what}: IDX element type 0x${bytes[2].toString(16)} is not uint8`);
  const rank = bytes[3];
  const headerLength = 4 + 4 * rank;
  if (rank < 1 || bytes.length < headerLength) throw new DataFormatError(`${what}: truncated IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerLength + count)
    throw new DataFormatError(
      `${what}: header says ${count} values [${shape.join(', ')}], file holds ${bytes.length - headerLength}`,
    );
  return { shape, data: bytes.subarray(headerLength) };
}

/** A labelled image set: `images` is uint8 [n, height, width, channels], row-major. */
export interface ImageSet {
  n: number;
  height: number;
  width: number;
  channels: number;
  images: Uint8Array;
  /** class index per image, [n] */
  labels: Uint8Array;
}

/** Pairs an IDX image file [n, h, w] with an IDX label file [n]. */
export function imageSetFromIdx(imageBytes: Uint8Array, labelBytes: Uint8Array, what = 'MNIST'): ImageSet {
  const images = parseIdx(imageBytes, `${what} images`);
  const labels = parseIdx(labelBytes, `${what} labels`);
  if (images.shape.length !== 3)
    throw new DataFormatError(`${what} images: expected rank 3 [n, h, w], got [${images.shape.join(', ')}]`);
  if (labels.shape.length !== 1)
    throw new DataFormatError(`${what} labels: expected rank 1 [n], got [${labels.shape.join(', ')}]`);
  const [n, height, width] = images.shape;
  if (labels.shape[0] !== n) throw new DataFormatError(`${what}: ${n} images but ${labels.shape[0]} labels`);
  return { n, height, width, channels: 1, images: images.data, labels: labels.data };
}

/** Images i0 … i1−1 of a set (views, no copy). */
export function sliceSet(set: ImageSet, i0: number, i1: number): ImageSet {
  const size = set.height * set.width * set.channels;
  return { ...set, n: i1 - i0, images: set.images.subarray(i0 * size, i1 * size), labels: set.labels.subarray(i0, i1) };
}
