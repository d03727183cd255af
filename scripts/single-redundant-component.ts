// A FARMER model with its redundant GMM G_R cut to one component (the one given), as a model file and
// its config, to fine-tune with `farmer train <out>.json --init <out>`: the test of whether the shared
// 16-component G_R is what scatters strokes in mnist-farmer's samples (README, model zoo).
// Run: npx tsx scripts/single-redundant-component.ts <model.safetensors> <out.safetensors> <component>
import { readFileSync, writeFileSync } from 'node:fs';
import { readCheckpoint, encodeCheckpoint } from '../src/lib/io/checkpoint';
const [src, out, kArg] = process.argv.slice(2);
if (!src || !out || kArg === undefined) throw new Error('usage: npx tsx scripts/single-redundant-component.ts <model.safetensors> <out.safetensors> <component>');
const { config, card, weights } = readCheckpoint(readFileSync(src), src);
const k = Number(kArg);
const p = config.prior as { mixtures_redundant: number; informative_dims: number };
const K = p.mixtures_redundant, dR = (config.image.channels * config.patch_size ** 2) - p.informative_dims;
const rows = [k, ...Array.from({ length: dR }, (_, j) => K + k * dR + j), ...Array.from({ length: dR }, (_, j) => K + K * dR + k * dR + j)];
const values = new Map<string, Float32Array>();
for (const [name, w] of weights) {
  if (name === 'ar.head_red.weight') {
    const A = w.shape[1];
    const o = new Float32Array(rows.length * A);
    rows.forEach((r, i) => o.set(w.values.subarray(r * A, (r + 1) * A), i * A));
    values.set(name, o);
  } else if (name === 'ar.head_red.bias') values.set(name, Float32Array.from(rows, (r) => w.values[r]));
  else values.set(name, w.values);
}
const cfg = { ...config, prior: { ...config.prior, mixtures_redundant: 1 } };
writeFileSync(out, encodeCheckpoint(cfg as typeof config, values, { ...card, metrics: {} }));
writeFileSync(out.replace(/\.safetensors$/, '.json'), JSON.stringify(cfg));
console.log(`${out}: K_R ${K} → 1 (component ${k})`);
