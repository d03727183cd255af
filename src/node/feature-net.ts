// The shipped feature networks from static/models/.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeFeatureNet, type FeatureNet } from '../lib/metrics/features';

/** static/models/features-<dataset>.safetensors in this checkout */
export function featureNetPath(dataset: string): string {
  return fileURLToPath(new URL(`../../static/models/features-${dataset}.safetensors`, import.meta.url));
}

export function loadFeatureNetFile(path: string): FeatureNet {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as { code?: string }).code ?? (e as Error).message})`);
  }
  return decodeFeatureNet(bytes, path);
}

export function loadFeatureNet(dataset: string): FeatureNet {
  return loadFeatureNetFile(featureNetPath(dataset));
}
