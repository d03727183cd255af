// Where a training step's time goes: kernel times of one step (gradients of Eq. 14 for every weight) of a
// configuration on wasm, from tf.profile, after warm-up; also the step time itself (min of 4).
// Run: npx tsx scripts/profile-train-step.ts [--config configs/mnist-farmer-bpd.json] [--batch 32]
// (a developer's tool, not a `farmer` command: it prints tfjs's kernel profile, nothing a model user reads)
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/node/backend';
import { parseConfig } from '../src/lib/farmer/config';
import { initParams } from '../src/lib/farmer/params';
import { makeModel, trainingLoss } from '../src/lib/farmer/model';
import { toVariables } from '../src/lib/train/step';
import { Rng } from '../src/lib/util/random';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/mnist-farmer-bpd.json' },
    batch: { type: 'string', default: '32' },
  },
});
await useBackend('wasm');
const cfg = parseConfig(JSON.parse(readFileSync(args.config!, 'utf8')));
const vars = toVariables(initParams(cfg, { seed: 0 }));
const model = makeModel(cfg, vars);
const B = Number(args.batch);
const { height: H, width: W, channels: C } = cfg.image;
const x = tf.tensor4d(new Rng(1).normals(B * H * W * C, 0.5), [B, H, W, C]);
const labels = Int32Array.from({ length: B }, (_, i) => (cfg.num_classes > 0 ? i % cfg.num_classes : -1));
const list = [...vars.values()];
const lossFn = () => trainingLoss(model, x, labels);
const step = () => {
  const { value, grads } = tf.variableGrads(lossFn, list);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
step();
step();
const times: number[] = [];
for (let i = 0; i < 4; i++) {
  const t = performance.now();
  step();
  times.push(performance.now() - t);
}
console.log(
  'ms per step',
  times.map((t) => t.toFixed(0)).join(' '),
  ' img/s',
  (B / (Math.min(...times) / 1000)).toFixed(1),
);
const prof = await tf.profile(() => {
  step();
});
const by = new Map<string, number>();
for (const k of prof.kernels) by.set(k.name, (by.get(k.name) ?? 0) + (k.kernelTimeMs as number));
const total = [...by.values()].reduce((a, b) => a + b, 0);
console.log('kernel total ms', total.toFixed(0));
for (const [n, t] of [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 18))
  console.log(n.padEnd(22), t.toFixed(1).padStart(8), ((100 * t) / total).toFixed(1) + '%');
