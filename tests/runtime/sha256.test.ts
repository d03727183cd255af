// Loading a model over plain http: a page that is not a secure context has no crypto.subtle, and
// the model's SHA-256 (its cache identity, and the check of a student's teacher) is then computed
// in plain JavaScript. Both against Node's own SHA-256, on every padding case and a large buffer.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sha256Bytes, sha256Hex } from '../../src/lib/util/hash';
import { Rng } from '../../src/lib/util/random';

const nodeHex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const bytes = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => rng.int(256));
};

afterEach(() => vi.unstubAllGlobals());

describe('SHA-256 without Web Crypto', () => {
  it("equals Node's SHA-256 for every length around the 64-byte blocks and on 1 MB", () => {
    for (let n = 0; n <= 200; n++) expect(hex(sha256Bytes(bytes(n, n))), `length ${n}`).toBe(nodeHex(bytes(n, n)));
    const big = bytes(1 << 20, 7);
    expect(hex(sha256Bytes(big))).toBe(nodeHex(big));
    expect(hex(sha256Bytes(new TextEncoder().encode('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('sha256Hex gives the same digest with crypto.subtle and without it (a plain-http page)', async () => {
    const data = bytes(5000, 3);
    const withSubtle = await sha256Hex(data);
    vi.stubGlobal('crypto', {});
    expect(globalThis.crypto.subtle).toBeUndefined();
    expect(await sha256Hex(data.buffer)).toBe(withSubtle);
    expect(withSubtle).toBe(nodeHex(data));
  });
});
