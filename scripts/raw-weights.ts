// The raw (non-EMA) weights of a `farmer train` run as a model file: <model>.state.safetensors
// holds both; `farmer train` writes the EMA to <model>. Used for the zoo when the raw weights scored
// a lower test BPD than the EMA (the model card's "weights" field says which shipped and why).
// Run: npx tsx scripts/raw-weights.ts <model.safetensors> <out.safetensors> "<weights note for the card>"
import { readFileSync, writeFileSync } from 'node:fs';
import { useBackend } from '../src/node/backend';
import { decodeTrainState } from '../src/lib/train/state-file';
import { readCheckpoint, saveCheckpoint, type Card } from '../src/lib/io/checkpoint';
import type { Params } from '../src/lib/nn/params';

const [model, out, note] = process.argv.slice(2);
if (!model || !out || !note) throw new Error('usage: npx tsx scripts/raw-weights.ts <model.safetensors> <out.safetensors> "<weights note>"');
await useBackend('cpu');
const { config, state } = decodeTrainState(readFileSync(`${model}.state.safetensors`), `${model}.state.safetensors`);
const { card } = readCheckpoint(readFileSync(model), model);
const withNote: Card = { ...card, weights: note };
writeFileSync(out, saveCheckpoint(config, state.vars as unknown as Params, withNote));
console.log(`${out}: raw weights at step ${state.step}`);
