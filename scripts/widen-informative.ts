// A FARMER model regrouped for fine-tuning: G_R cut to one component (the one given) and the first
// (dI − d_I) redundant channels moved into the informative group, so the AR prior models them per
// position instead of drawing them i.i.d. from the shared G_R. The AF and the AR trunk are kept; the
// new informative dimensions start with the chosen G_R component's mean and scale in every
// informative component, and ar.proj_in gets zero columns for them, so the starting likelihood is
// that of the model with G_R cut to that component. Output: <out> and <out>.json for
// `farmer train <out>.json --init <out>`.
// With dI equal to the model's d_I it only cuts G_R to that component.
// Run: npx tsx scripts/widen-informative.ts <model.safetensors> <out.safetensors> <component> <dI>
import { readFileSync, writeFileSync } from 'node:fs';
import { readCheckpoint, encodeCheckpoint } from '../src/lib/io/checkpoint';
const [src, out, kArg, dIArg] = process.argv.slice(2);
if (!src || !out || kArg === undefined || dIArg === undefined) throw new Error('usage: npx tsx scripts/widen-informative.ts <model.safetensors> <out.safetensors> <component> <dI>');
const { config, card, weights } = readCheckpoint(readFileSync(src), src);
const prior = config.prior as { kind: string; informative_dims: number; mixtures_informative: number; mixtures_redundant: number };
if (prior.kind !== 'farmer') throw new Error(`${src}: not a FARMER prior`);
const d = config.image.channels * config.patch_size ** 2;
const dI0 = prior.informative_dims, dR0 = d - dI0, KR = prior.mixtures_redundant, KI = prior.mixtures_informative;
const k = Number(kArg), dI = Number(dIArg), moved = dI - dI0, dR = d - dI;
if (!(k >= 0 && k < KR)) throw new Error(`component ${k} not in [0, ${KR})`);
if (!(dI >= dI0 && dI < d)) throw new Error(`dI ${dI} not in [${dI0}, ${d})`);
const get = (name: string) => {
  const w = weights.get(name);
  if (!w) throw new Error(`${src}: no ${name}`);
  return w;
};
const W = get('ar.head_red.weight').shape[1];
const redW = get('ar.head_red.weight').values, redB = get('ar.head_red.bias').values;
// G_R rows (component-major): logit k, mean k·dR0 + j, raw k·dR0 + j
const redMean = (j: number) => KR + k * dR0 + j, redRaw = (j: number) => KR + KR * dR0 + k * dR0 + j;

// ar.head_red: [1 + 2·dR, W] ← component k's logit and the last dR redundant channels
const headRedRows = [k, ...Array.from({ length: dR }, (_, j) => redMean(moved + j)), ...Array.from({ length: dR }, (_, j) => redRaw(moved + j))];
const headRedW = new Float32Array(headRedRows.length * W), headRedB = new Float32Array(headRedRows.length);
headRedRows.forEach((r, i) => { headRedW.set(redW.subarray(r * W, (r + 1) * W), i * W); headRedB[i] = redB[r]; });

// ar.head_info: [KI(1 + 2·dI), W]; old dims keep their rows, moved dims start at G_R component k (bias only)
const infoW = get('ar.head_info.weight').values, infoB = get('ar.head_info.bias').values;
const rowsI = KI * (1 + 2 * dI);
const headInfoW = new Float32Array(rowsI * W), headInfoB = new Float32Array(rowsI);
const copyRow = (from: number, to: number) => { headInfoW.set(infoW.subarray(from * W, (from + 1) * W), to * W); headInfoB[to] = infoB[from]; };
for (let c = 0; c < KI; c++) {
  copyRow(c, c);
  for (let j = 0; j < dI; j++) {
    const mean = KI + c * dI + j, raw = KI + KI * dI + c * dI + j;
    if (j < dI0) { copyRow(KI + c * dI0 + j, mean); copyRow(KI + KI * dI0 + c * dI0 + j, raw); }
    else { headInfoB[mean] = redB[redMean(j - dI0)]; headInfoB[raw] = redB[redRaw(j - dI0)]; }
  }
}

// ar.proj_in: [W, dI], zero columns for the moved channels
const projW = get('ar.proj_in.weight').values;
const proj = new Float32Array(W * dI);
for (let r = 0; r < W; r++) for (let j = 0; j < dI0; j++) proj[r * dI + j] = projW[r * dI0 + j];

const values = new Map<string, Float32Array>();
for (const [name, w] of weights) values.set(name, w.values);
values.set('ar.head_red.weight', headRedW); values.set('ar.head_red.bias', headRedB);
values.set('ar.head_info.weight', headInfoW); values.set('ar.head_info.bias', headInfoB);
values.set('ar.proj_in.weight', proj);
const cfg = { ...config, prior: { ...config.prior, informative_dims: dI, mixtures_redundant: 1 } };
writeFileSync(out, encodeCheckpoint(cfg as typeof config, values, { ...card, metrics: {} }));
writeFileSync(out.replace(/\.safetensors$/, '.json'), JSON.stringify(cfg));
console.log(`${out}: d_I ${dI0} → ${dI}, K_R ${KR} → 1 (component ${k})`);
