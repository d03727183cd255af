// Model space → uint8 pixels, and uint8 arrays as base64 text (browser-safe), for experiments
// whose results keep a few images and must stay JSON-serialisable.
import type { Dequantization } from '../farmer/config';

/**
 * Inverts the model's dequantization (spec §1): floor((x + 1)·128) for uniform noise,
 * round((x + 1)·127.5) for gaussian; clipped to [0, 255], non-finite → 0.
 */
export function modelToUint8(x: ArrayLike<number>, dq: Dequantization): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = dq.kind === 'uniform' ? Math.floor((x[i] + 1) * 128) : Math.round((x[i] + 1) * 127.5);
    out[i] = Number.isFinite(v) ? Math.min(255, Math.max(0, v)) : 0;
  }
  return out;
}

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
