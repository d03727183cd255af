// The raw (non-EMA) weights of a `farmer train` run as a model file: <model>.state.safetensors
// holds both, and `farmer train` writes the EMA to <model>. Used for the zoo when the raw weights
// scored a lower test BPD than the EMA (the card's "weights" field says which shipped and why).
import { parseSafetensors, readFloat32 } from '../../lib/io/safetensors';
import { encodeCheckpoint, readCheckpoint, type Card } from '../../lib/io/checkpoint';
import { parseConfig } from '../../lib/farmer/config';

/** The model file with the training state's `param/*` weights in place of the EMA, and `note` as card.weights. */
export function rawWeights(
  modelBytes: Uint8Array,
  stateBytes: Uint8Array,
  note: string,
  source = 'model',
): { bytes: Uint8Array; step: number } {
  const { config, card } = readCheckpoint(modelBytes, source);
  const state = parseSafetensors(stateBytes);
  if (state.metadata.format !== 'farmer-train-state')
    throw new Error(
      `${source}.state.safetensors is not a training state (format ${JSON.stringify(state.metadata.format)})`,
    );
  if (JSON.stringify(parseConfig(JSON.parse(state.metadata.config))) !== JSON.stringify(config))
    throw new Error(`${source}.state.safetensors holds another configuration than ${source}`);
  const values = new Map<string, Float32Array>();
  for (const t of state.tensors)
    if (t.name.startsWith('param/')) values.set(t.name.slice('param/'.length), readFloat32(state, t));
  const withNote: Card = { ...card, weights: note };
  return { bytes: encodeCheckpoint(config, values, withNote), step: Number(state.metadata.step) };
}
