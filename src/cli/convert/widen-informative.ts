// A FARMER model regrouped for fine-tuning: G_R cut to one component k, and the first
// (d_I' − d_I) redundant channels moved into the informative group, so the AR prior models them per
// position instead of drawing them i.i.d. from the shared G_R. The AF and the AR trunk are kept.
// The moved dimensions start, in every informative component, with G_R component k's mean and
// scale biases (their weight rows zero), and ar.proj_in gets zero columns for them, so the AR's
// hidden states do not change. With d_I' = d_I it only cuts G_R to component k.
import type { CheckpointData } from '../../lib/io/checkpoint';
import type { FarmerConfig } from '../../lib/farmer/config';
import { farmerPrior } from '../../lib/farmer/prior';

export function widenInformative(
  { config, weights }: Pick<CheckpointData, 'config' | 'weights'>,
  k: number,
  dI: number,
): { config: FarmerConfig; values: Map<string, Float32Array> } {
  const prior = farmerPrior(config);
  const d = config.image.channels * config.patch_size ** 2;
  const dI0 = prior.informative_dims,
    dR0 = d - dI0,
    KR = prior.mixtures_redundant,
    KI = prior.mixtures_informative;
  if (!Number.isInteger(k) || k < 0 || k >= KR) throw new Error(`component ${k} is not in [0, ${KR - 1}]`);
  if (!Number.isInteger(dI) || dI < dI0 || dI >= d)
    throw new Error(`informative dims ${dI} is not in [${dI0}, ${d - 1}] (the model's d_I to d − 1)`);
  const moved = dI - dI0,
    dR = d - dI;
  const get = (name: string) => weights.get(name)!.values;
  const W = prior.ar.width;
  const redW = get('ar.head_red.weight'),
    redB = get('ar.head_red.bias');
  // G_R rows, component-major: logit k, mean k·dR0 + j, raw k·dR0 + j
  const redMean = (j: number) => KR + k * dR0 + j,
    redRaw = (j: number) => KR + KR * dR0 + k * dR0 + j;

  // ar.head_red [1 + 2·dR, W]: component k's logit and the last dR redundant channels
  const rows = [
    k,
    ...Array.from({ length: dR }, (_, j) => redMean(moved + j)),
    ...Array.from({ length: dR }, (_, j) => redRaw(moved + j)),
  ];
  const headRedW = new Float32Array(rows.length * W),
    headRedB = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    headRedW.set(redW.subarray(r * W, (r + 1) * W), i * W);
    headRedB[i] = redB[r];
  });

  // ar.head_info [K_I(1 + 2·dI), W]: old dims keep their rows; moved dims start at component k (bias only)
  const infoW = get('ar.head_info.weight'),
    infoB = get('ar.head_info.bias');
  const headInfoW = new Float32Array(KI * (1 + 2 * dI) * W),
    headInfoB = new Float32Array(KI * (1 + 2 * dI));
  const copyRow = (from: number, to: number) => {
    headInfoW.set(infoW.subarray(from * W, (from + 1) * W), to * W);
    headInfoB[to] = infoB[from];
  };
  for (let c = 0; c < KI; c++) {
    copyRow(c, c);
    for (let j = 0; j < dI; j++) {
      const mean = KI + c * dI + j,
        raw = KI + KI * dI + c * dI + j;
      if (j < dI0) {
        copyRow(KI + c * dI0 + j, mean);
        copyRow(KI + KI * dI0 + c * dI0 + j, raw);
      } else {
        headInfoB[mean] = redB[redMean(j - dI0)];
        headInfoB[raw] = redB[redRaw(j - dI0)];
      }
    }
  }

  // ar.proj_in [W, dI]: zero columns for the moved channels
  const projW = get('ar.proj_in.weight');
  const proj = new Float32Array(W * dI);
  for (let r = 0; r < W; r++) for (let j = 0; j < dI0; j++) proj[r * dI + j] = projW[r * dI0 + j];

  const values = new Map([...weights].map(([name, w]) => [name, w.values]));
  values.set('ar.head_red.weight', headRedW);
  values.set('ar.head_red.bias', headRedB);
  values.set('ar.head_info.weight', headInfoW);
  values.set('ar.head_info.bias', headInfoB);
  values.set('ar.proj_in.weight', proj);
  return { config: { ...config, prior: { ...prior, informative_dims: dI, mixtures_redundant: 1 } }, values };
}
