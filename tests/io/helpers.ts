// Test-only safetensors byte surgery, written from the format description (independent of src/lib/io).
import { parseConfig, type FarmerConfig } from '../../src/lib/farmer/config';

export const tinyRawConfig = {
  image: { height: 8, width: 8, channels: 1 },
  patch_size: 2,
  num_classes: 3,
  af: { blocks: 2, layers_per_block: 1, width: 16, head_dim: 8, mlp_ratio: 2, class_conditional: false, soft_clip: 0 },
  prior: {
    kind: 'farmer',
    informative_dims: 2,
    cond_repeat: 2,
    final_permute: true,
    mixtures_informative: 3,
    mixtures_redundant: 2,
    ar: { layers: 1, width: 16, head_dim: 8, mlp_ratio: 2 },
  },
  dequantization: { kind: 'uniform' },
  label_dropout: 0.1,
};

export const tinyConfig = (): FarmerConfig => parseConfig(structuredClone(tinyRawConfig));

export const tinyCard = () => ({
  dataset: 'mnist',
  steps: 12,
  time_s: 3.5,
  seed: 7,
  metrics: { bpd_test: 1.25 },
  note: 'test',
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Header = Record<string, any>;

/** `[u64 LE length][header text][data]` with the header text given verbatim. */
export function rawFile(headerText: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

export function split(bytes: Uint8Array): { header: Header; data: Uint8Array } {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  return { header, data: bytes.slice(8 + n) };
}

/** Re-encodes a file after `mutate` edits its parsed header (and optionally returns new data). */
export function rebuild(
  bytes: Uint8Array,
  mutate: (header: Header, data: Uint8Array) => Uint8Array | void,
): Uint8Array {
  const { header, data } = split(bytes);
  const newData = mutate(header, data) ?? data;
  return rawFile(JSON.stringify(header), newData);
}
