// AdamW, the gradient norm and the EMA, tensor by tensor (wasm, cpu) and over one flat vector
// (GPU backends, flat.ts); both checked against a float64 loop over every entry, written from the
// update rules (Loshchilov & Hutter), for a matrix (decayed), a bias and a 1-D table (not decayed).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../src/lib/train/adamw';
import { flatten, layoutOf, unflatten, updateEma } from '../../src/lib/train/flat';
import { trainStep } from '../../src/lib/train/step';
import { Rng } from '../../src/lib/util/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shapes: Record<string, number[]> = { 'w.weight': [3, 4], 'w.bias': [3], table: [5] };

function randomMap(rng: Rng): Map<string, Float64Array> {
  return new Map(
    Object.entries(shapes).map(([n, s]) => [n, Float64Array.from(rng.normals(s.reduce((a, b) => a * b, 1)))]),
  );
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(b[i])));
  return m;
}

describe('flat AdamW', () => {
  it('flatten and unflatten are inverse, in the layout order', () => {
    const rng = new Rng(1);
    const map = new Map([...randomMap(rng)].map(([n, v]) => [n, tf.tensor(Float32Array.from(v), shapes[n])]));
    const layout = layoutOf(map);
    const flat = flatten(layout, map);
    expect(flat.shape).toEqual([12 + 3 + 5]);
    const back = unflatten(layout, flat);
    layout.names.forEach((n, i) => {
      expect(back[i].shape).toEqual(shapes[n]);
      expect(Array.from(back[i].dataSync())).toEqual(Array.from(map.get(n)!.dataSync()));
    });
  });

  it.each([
    { mode: 'tensor by tensor', flat: false },
    { mode: 'as one flat vector', flat: true },
  ])(
    'three clipped steps, $mode, equal a float64 loop over every entry (moments, bias correction, decoupled decay on matrices)',
    async ({ flat }) => {
      const rng = new Rng(3);
      const w0 = randomMap(rng);
      const grads = [randomMap(rng), randomMap(rng), randomMap(rng)].map(
        (g) => new Map([...g].map(([n, v]) => [n, v.map((x) => 3 * x)])),
      );
      const [b1, b2, eps, wd, clip] = [0.9, 0.95, 1e-8, 0.1, 1];
      const lrs = [1e-2, 5e-3, 2e-3];

      const vars = new Map([...w0].map(([n, v]) => [n, tf.variable(tf.tensor(Float32Array.from(v), shapes[n]), true)]));
      const opt = new AdamW({ beta1: b1, beta2: b2, eps, weightDecay: wd });
      const norms: number[] = [];
      for (let t = 0; t < 3; t++) {
        // loss = Σ g·w has gradient g for every variable
        const r = await trainStep(
          vars,
          () =>
            tf.addN(
              [...vars].map(([n, v]) => v.mul(tf.tensor(Float32Array.from(grads[t].get(n)!), shapes[n])).sum()),
            ) as tf.Scalar,
          opt,
          lrs[t],
          clip,
          flat,
        );
        norms.push(r.gradNorm);
      }

      const w = new Map([...w0].map(([n, v]) => [n, Float64Array.from(v)]));
      const m = new Map([...w0].map(([n, v]) => [n, new Float64Array(v.length)]));
      const v2 = new Map([...w0].map(([n, v]) => [n, new Float64Array(v.length)]));
      for (let t = 0; t < 3; t++) {
        let sq = 0;
        for (const g of grads[t].values()) for (const x of g) sq += x * x;
        const norm = Math.sqrt(sq),
          scale = norm > clip ? clip / norm : 1;
        expect(Math.abs(norms[t] - norm) / norm).toBeLessThan(1e-5);
        const c1 = 1 - b1 ** (t + 1),
          c2 = 1 - b2 ** (t + 1);
        for (const [n, wn] of w) {
          const decay = shapes[n].length >= 2 ? wd : 0;
          const g = grads[t].get(n)!,
            mn = m.get(n)!,
            vn = v2.get(n)!;
          for (let i = 0; i < wn.length; i++) {
            const gi = g[i] * scale;
            mn[i] = b1 * mn[i] + (1 - b1) * gi;
            vn[i] = b2 * vn[i] + (1 - b2) * gi * gi;
            wn[i] = wn[i] * (1 - lrs[t] * decay) - (lrs[t] * (mn[i] / c1)) / (Math.sqrt(vn[i] / c2) + eps);
          }
        }
      }
      const moments = opt.momentsByName(); // the state file's layout, split from flat moments if need be
      for (const [n, wn] of w) {
        expect(maxRelDiff(await vars.get(n)!.data(), wn), n).toBeLessThan(1e-4);
        expect(maxRelDiff(await moments.m.get(n)!.data(), m.get(n)!), `m ${n}`).toBeLessThan(1e-4);
        expect(maxRelDiff(await moments.v.get(n)!.data(), v2.get(n)!), `v ${n}`).toBeLessThan(1e-4);
        expect(moments.m.get(n)!.shape).toEqual(shapes[n]);
      }
      opt.dispose();
      for (const v of vars.values()) v.dispose();
    },
  );

  it.each([false, true])(
    'updateEma (flat: %s): decay·ema + (1 − decay)·w per entry, without leaking tensors',
    (flat) => {
      const rng = new Rng(5);
      const e0 = randomMap(rng),
        w0 = randomMap(rng);
      const ema = new Map([...e0].map(([n, v]) => [n, tf.tensor(Float32Array.from(v), shapes[n])]));
      const vars = new Map([...w0].map(([n, v]) => [n, tf.tensor(Float32Array.from(v), shapes[n])]));
      const before = tf.memory().numTensors;
      updateEma(ema, vars, 0.99, flat);
      expect(tf.memory().numTensors).toBe(before);
      for (const [n, e] of e0) {
        const want = e.map((x, i) => 0.99 * x + 0.01 * w0.get(n)![i]);
        expect(ema.get(n)!.shape).toEqual(shapes[n]);
        expect(maxRelDiff(ema.get(n)!.dataSync(), want)).toBeLessThan(1e-5);
      }
    },
  );
});
