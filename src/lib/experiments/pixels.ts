// uint8 arrays as base64 text and images as PNG data URLs (browser- and worker-safe, no
// TensorFlow.js), for experiment results that keep a few images and must stay JSON-serialisable.
import { encodePng, type Image } from '../io/png';

/** uint8 bytes → base64 */
export function bytesToBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** base64 → uint8 bytes */
export function base64ToBytes(b64: string): Uint8Array {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** An encoded picture a figure places as it is: a PNG data URL and its size in pixels. */
export interface PngImage {
  href: string;
  width: number;
  height: number;
}

/** An 8-bit image as a PNG data URL. Encode in the experiment's run (the worker), not in figures(). */
export function pngImage(image: Image): PngImage {
  return { href: `data:image/png;base64,${bytesToBase64(encodePng(image))}`, width: image.width, height: image.height };
}
