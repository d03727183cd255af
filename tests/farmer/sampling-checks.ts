// Sampling at every batch width and on every backend: the same seed gives the same samples.
// On webgpu the unguided draws run in a kernel from the per-sample streams' numbers; on cpu they
// run on the CPU from the same streams. Also: the footprints batch-width.ts sizes GPU batches
// with are at least what a batch really holds (tf.profile's peak, per image).
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { maxAbsDiff } from '../tf/fixtures';
import { selectBackend, type BackendHost, type BackendName } from '../../src/lib/tf/backend';
import { sample } from '../../src/lib/farmer/sampling';
import { analyzeForward, disposeAnalysis, makeModel, type FarmerModel } from '../../src/lib/farmer/model';
import { forwardFootprint, samplingFootprint } from '../../src/lib/farmer/footprint';
import { tinyModel, randomImages } from '../helpers/tiny';

export interface Samples {
  z: number[];
  images: number[];
}

/** n samples of a run seeded `seed`, in calls of `width` (each told its first index). */
async function draw(model: FarmerModel, n: number, width: number, seed: number): Promise<Samples> {
  const z: number[] = [],
    images: number[] = [];
  for (let start = 0; start < n; start += width) {
    const r = await sample(model, { n: Math.min(width, n - start), seed, first: start });
    z.push(...(await r.z.data()));
    images.push(...(await r.images.data()));
    tf.dispose([r.z, r.images]);
  }
  return { z, images };
}

/** A model's weights moved to the active backend. */
function onActive(host: FarmerModel, values: Map<string, Float32Array>): FarmerModel {
  return makeModel(host.config, new Map([...host.params].map(([n, t]) => [n, tf.tensor(values.get(n)!, t.shape)])));
}

async function peakPerImage(run: (B: number) => Promise<void>, small: number, large: number): Promise<number> {
  const peak = async (B: number) => {
    const before = tf.memory().numBytes;
    const p = await tf.profile(() => run(B));
    return p.peakBytes - before;
  };
  return ((await peak(large)) - (await peak(small))) / (large - small);
}

export interface SamplingChecks {
  /** by backend: 8 samples in one call, and in four calls of 2 */
  wide: Record<string, Samples>;
  narrow: Record<string, Samples>;
  /** by backend: 4 samples with labels of a class-conditional AF with soft clipping (the embedding's extra row, the clipped update) */
  conditional: Record<string, Samples>;
  /** webgpu: measured and estimated bytes per image */
  footprint: { forward: { measured: number; estimate: number }; sampling: { measured: number; estimate: number } };
}

export async function runSamplingChecks(host?: BackendHost): Promise<SamplingChecks> {
  await selectBackend('cpu', { host });
  const reference = tinyModel({ blocks: 3 }, 7);
  const values = new Map([...reference.params].map(([n, t]) => [n, t.dataSync() as Float32Array]));
  const conditionalModel = tinyModel({ blocks: 2, classConditionalAf: true, softClip: 1.5 }, 8);
  const conditionalValues = new Map([...conditionalModel.params].map(([n, t]) => [n, t.dataSync() as Float32Array]));
  const wide: Record<string, Samples> = {},
    narrow: Record<string, Samples> = {},
    conditional: Record<string, Samples> = {};
  let footprint: SamplingChecks['footprint'] | null = null;
  for (const name of ['webgpu', 'cpu'] as BackendName[]) {
    await selectBackend(name, { host, fallback: false });
    const model = onActive(reference, values);
    wide[name] = await draw(model, 8, 8, 3);
    narrow[name] = await draw(model, 8, 2, 3);
    const cond = onActive(conditionalModel, conditionalValues);
    const r = await sample(cond, { n: 4, seed: 5, labels: Int32Array.from([0, 1, 2, -1]) });
    conditional[name] = { z: [...(await r.z.data())], images: [...(await r.images.data())] };
    tf.dispose([r.z, r.images, ...cond.params.values()]);
    if (name === 'webgpu') {
      const forward = await peakPerImage(
        async (B) => {
          const x = randomImages(model.config, B);
          const a = analyzeForward(model, x);
          await a.nllPerDim.data();
          disposeAnalysis(a);
          x.dispose();
        },
        2,
        6,
      );
      const sampling = await peakPerImage(
        async (B) => {
          const r = await sample(model, { n: B, seed: 1 });
          tf.dispose([r.z, r.images]);
        },
        2,
        6,
      );
      footprint = {
        forward: { measured: forward, estimate: forwardFootprint(model.config).total },
        sampling: { measured: sampling, estimate: samplingFootprint(model.config).total },
      };
    }
    tf.dispose([...model.params.values()]);
  }
  tf.dispose([...reference.params.values(), ...conditionalModel.params.values()]);
  await selectBackend('cpu', { host });
  return { wide, narrow, conditional, footprint: footprint! };
}

/** The assertions, for tests/farmer/sampling-gpu.test.ts and tests/browser/sampling.browser.test.ts. */
export function expectSameSamples(c: SamplingChecks): void {
  for (const backend of ['webgpu', 'cpu']) {
    expect(c.wide[backend].z.length).toBe(8 * 4 * 4);
    expect(c.narrow[backend].z, `${backend}: batch 2 vs 8, z`).toEqual(c.wide[backend].z);
    expect(c.narrow[backend].images, `${backend}: batch 2 vs 8, images`).toEqual(c.wide[backend].images);
  }
  expect(Math.max(...c.wide.cpu.z.map(Math.abs))).toBeGreaterThan(0.5);
  expect(maxAbsDiff(c.wide.webgpu.z, c.wide.cpu.z), 'z, webgpu vs cpu').toBeLessThanOrEqual(1e-4);
  expect(maxAbsDiff(c.wide.webgpu.images, c.wide.cpu.images), 'images, webgpu vs cpu').toBeLessThanOrEqual(1e-3);
  expect(
    maxAbsDiff(c.conditional.webgpu.images, c.conditional.cpu.images),
    'class-conditional AF, soft clip: images',
  ).toBeLessThanOrEqual(1e-3);
  expect(Math.max(...c.conditional.cpu.images.map(Math.abs))).toBeGreaterThan(0.5);
  for (const kind of ['forward', 'sampling'] as const) {
    expect(c.footprint[kind].measured, kind).toBeGreaterThan(0);
    expect(c.footprint[kind].estimate, kind).toBeGreaterThanOrEqual(c.footprint[kind].measured);
  }
}
