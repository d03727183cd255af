// A model file whose AF is made class-conditional (spec §3: h gets + class_embed[y]) with every
// af.blocks.{k}.class_embed at zero, so it starts as the same function and fine-tuning learns how
// the label enters the flow. Output: <out> and <out>.json for `farmer train <out>.json --init <out>`.
// Run: npx tsx scripts/class-conditional-af.ts <model.safetensors> <out.safetensors>
import { readFileSync, writeFileSync } from 'node:fs';
import { readCheckpoint, encodeCheckpoint } from '../src/lib/io/checkpoint';
const [src, out] = process.argv.slice(2);
if (!src || !out) throw new Error('usage: npx tsx scripts/class-conditional-af.ts <model.safetensors> <out.safetensors>');
const { config, card, weights } = readCheckpoint(readFileSync(src), src);
if (config.af.class_conditional) throw new Error(`${src}: its AF is class-conditional already`);
if (config.num_classes < 1) throw new Error(`${src}: an unconditional model (num_classes = 0)`);
const values = new Map<string, Float32Array>();
for (const [name, w] of weights) values.set(name, w.values);
for (let k = 0; k < config.af.blocks; k++) values.set(`af.blocks.${k}.class_embed`, new Float32Array(config.num_classes * config.af.width));
const cfg = { ...config, af: { ...config.af, class_conditional: true } };
writeFileSync(out, encodeCheckpoint(cfg, values, { ...card, metrics: {} }));
writeFileSync(out.replace(/\.safetensors$/, '.json'), JSON.stringify(cfg));
console.log(`${out}: class-conditional AF, class_embed at zero`);
