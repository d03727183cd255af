// SHA-256 of a file's bytes, the identity of a model in cache keys (browser, worker and Node).

/** Lowercase hex SHA-256 of `bytes` (Web Crypto: pages, workers, Node ≥ 19). */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', view as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
