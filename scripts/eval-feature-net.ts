// Measures a shipped feature network on its dataset's test split (wasm backend).
// Run: npx tsx scripts/eval-feature-net.ts --dataset mnist|colored-mnist
import { parseArgs } from 'node:util';
import { colorClasses, coloredMnistSeeds, HUE_CLASSES } from '../src/lib/data/colored';
import { loadDataset } from '../src/node/datasets';
import { accuracy, computeFeatures } from '../src/lib/metrics/features';
import { loadFeatureNet } from '../src/node/feature-net';
import { useBackend } from '../src/node/backend';

const { values: args } = parseArgs({ options: { dataset: { type: 'string', default: 'mnist' } } });
const dataset = args.dataset!;
await useBackend('wasm');
const net = loadFeatureNet(dataset);
const test = loadDataset(dataset, 'test');
const t0 = performance.now();
const out = await computeFeatures(net, test.images, test.n);
const seconds = (performance.now() - t0) / 1000;
const labels: Record<string, [ArrayLike<number>, number]> = { digit: [test.labels, test.numClasses] };
if (dataset === 'colored-mnist') {
  const c = colorClasses(test.n, coloredMnistSeeds.test);
  labels.fg_hue = [c.fg, HUE_CLASSES];
  labels.bg_hue = [c.bg, HUE_CLASSES];
}
const every5 = Array.from({ length: test.n / 5 }, (_, i) => i * 5);
for (const [head, [y, k]] of Object.entries(labels)) {
  const p = out.probs[head];
  const sub = Float32Array.from(every5.flatMap((i) => Array.from(p.subarray(i * k, (i + 1) * k))));
  console.log(
    `${dataset} ${head}: test accuracy ${accuracy(p, y, k).toFixed(4)} (10000 images), ${accuracy(
      sub,
      every5.map((i) => y[i]),
      k,
    ).toFixed(4)} (every 5th, 2000)`,
  );
}
console.log(`features of ${test.n} images: ${seconds.toFixed(1)} s`);
