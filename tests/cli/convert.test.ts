// `farmer convert` on tiny checkpoints, each against what the surgery must preserve: the converted
// model is the same function as the original where the conversion says so, and raw-weights ships
// exactly the training state's weights.
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeForward, disposeAnalysis, makeModel, type FarmerModel } from '../../src/lib/farmer/model';
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from '../../src/lib/io/checkpoint';
import { parseSafetensors, readFloat32 } from '../../src/lib/io/safetensors';
import { initParams } from '../../src/lib/farmer/params';
import {
  disposeTrainState,
  exportParams,
  newTrainState,
  trainOneStep,
  type TrainOptions,
} from '../../src/lib/train/loop';
import { encodeTrainState } from '../../src/lib/train/state-file';
import { widenInformative } from '../../src/cli/convert/widen-informative';
import { parseConfig } from '../../src/lib/farmer/config';
import { tempDir } from '../helpers/files';
import { randomImages, tinyConfig, tinyModel } from '../helpers/tiny';
import { runFarmer } from '../helpers/cli';
import { Rng } from '../../src/lib/util/random';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tempDir('farmer-convert-');
});

async function logPx(model: FarmerModel, x: tf.Tensor4D, labels: Int32Array | null): Promise<number[]> {
  const a = analyzeForward(model, x, labels);
  const v = Array.from(await a.logPx.data());
  disposeAnalysis(a);
  return v;
}

function save(model: FarmerModel, name: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    saveCheckpoint(model.config, model.params, {
      dataset: 'random',
      steps: 3,
      time_s: 1,
      seed: 0,
      metrics: { bpd_test: 9 },
    }),
  );
  return path;
}

const load = (path: string) => {
  const c = loadCheckpoint(readFileSync(path));
  return { model: makeModel(c.config, c.params), card: c.card };
};

/**
 * A tiny FARMER model (d = 4, d_I = 2, K_R = 3) whose G_R components are all copies of component k,
 * with component k's mean and scale rows for the first `moved` redundant channels independent of
 * the AR state (zero weights). Cutting G_R to k and moving those channels into the informative
 * group then leaves log p(x) exactly as it is.
 */
function preparedModel(k: number, moved: number): FarmerModel {
  const model = tinyModel({ mixtures: [3, 3] }, 4);
  const KR = 3,
    dR = 2,
    W = 16;
  const w = Float32Array.from(model.params.get('ar.head_red.weight')!.dataSync());
  const b = Float32Array.from(model.params.get('ar.head_red.bias')!.dataSync());
  const rowsOf = (c: number) => [
    c,
    ...Array.from({ length: dR }, (_, j) => KR + c * dR + j),
    ...Array.from({ length: dR }, (_, j) => KR + KR * dR + c * dR + j),
  ];
  for (let j = 0; j < moved; j++)
    for (const r of [KR + k * dR + j, KR + KR * dR + k * dR + j]) w.fill(0, r * W, (r + 1) * W);
  const source = rowsOf(k);
  for (let c = 0; c < KR; c++)
    rowsOf(c).forEach((r, i) => {
      w.copyWithin(r * W, source[i] * W, (source[i] + 1) * W);
      b[r] = b[source[i]];
    });
  for (const [name, v] of [
    ['ar.head_red.weight', w],
    ['ar.head_red.bias', b],
  ] as const) {
    model.params.get(name)!.dispose();
    model.params.set(
      name,
      tf.tensor(v, [v.length / (name.endsWith('weight') ? W : 1), ...(name.endsWith('weight') ? [W] : [])]),
    );
  }
  return model;
}

describe('farmer convert', () => {
  it('widen-informative: cutting G_R to one of its (equal) components and moving channels keeps log p(x)', async () => {
    const x = randomImages(tinyConfig(), 5, 3);
    const labels = Int32Array.from([0, 1, 2, -1, 1]);
    for (const [k, moved] of [
      [1, 0],
      [2, 1],
    ]) {
      const original = preparedModel(k, moved);
      const before = await logPx(original, x, labels);
      const src = save(original, `widen-src-${moved}.safetensors`);
      const out = join(dir, `widen-${moved}.safetensors`);
      const r = await runFarmer([
        'convert',
        'widen-informative',
        src,
        '--out',
        out,
        '--component',
        String(k),
        '--informative-dims',
        String(2 + moved),
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ out, config: out.replace(/\.safetensors$/, '.json') });
      const { model, card } = load(out);
      expect(model.config.prior).toMatchObject({ informative_dims: 2 + moved, mixtures_redundant: 1 });
      expect(parseConfig(JSON.parse(readFileSync(out.replace(/\.safetensors$/, '.json'), 'utf8')))).toEqual(
        model.config,
      );
      expect(card.metrics).toEqual({});
      const after = await logPx(model, x, labels);
      after.forEach((v, i) => expect(v).toBeCloseTo(before[i], 3));
      tf.dispose([...original.params.values(), ...model.params.values()]);
    }
    x.dispose();
  });

  it('widen-informative refuses a component or a width the model does not have', () => {
    const m = tinyModel({ mixtures: [3, 2] });
    const data = readCheckpoint(
      saveCheckpoint(m.config, m.params, { dataset: 'x', steps: 0, time_s: 0, seed: 0, metrics: {} }),
    );
    expect(() => widenInformative(data, 2, 2)).toThrow('component 2 is not in [0, 1]');
    expect(() => widenInformative(data, 0, 4)).toThrow('informative dims 4 is not in [2, 3]');
    tf.dispose([...m.params.values()]);
  });

  it('class-conditional-af: zero class embeddings leave log p(x | y) as it was, for every label', async () => {
    const original = tinyModel({}, 6);
    const x = randomImages(original.config, 4, 8);
    const labels = Int32Array.from([0, 1, 2, -1]);
    const before = await logPx(original, x, labels);
    const out = join(dir, 'cc.safetensors');
    const r = await runFarmer(['convert', 'class-conditional-af', save(original, 'cc-src.safetensors'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const { model } = load(out);
    expect(model.config.af.class_conditional).toBe(true);
    expect(Array.from(model.params.get('af.blocks.1.class_embed')!.dataSync()).every((v) => v === 0)).toBe(true);
    const after = await logPx(model, x, labels);
    after.forEach((v, i) => expect(v).toBeCloseTo(before[i], 3));
    const again = await runFarmer(['convert', 'class-conditional-af', out, '--out', join(dir, 'cc2.safetensors')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/its AF is class-conditional already\n$/);
    tf.dispose([x, ...original.params.values(), ...model.params.values()]);
  });

  it("raw-weights: ships the training state's weights, not the EMA, with the note in the card", async () => {
    const cfg = tinyConfig();
    const options: TrainOptions = {
      steps: 2,
      batch: 4,
      seed: 1,
      lr: 1e-2,
      lrMin: 1e-3,
      warmup: 1,
      weightDecay: 0,
      clip: 1,
      ema: 0.5,
    };
    const rng = new Rng(2);
    const data = {
      n: 8,
      images: Uint8Array.from({ length: 8 * 16 }, () => rng.int(256)),
      labels: Uint8Array.from({ length: 8 }, (_, i) => i % 3),
    };
    const state = newTrainState(initParams(cfg, { seed: 3 }), options);
    for (let i = 0; i < 2; i++) await trainOneStep(cfg, state, data, options);
    const model = join(dir, 'run.safetensors');
    writeFileSync(
      model,
      saveCheckpoint(cfg, exportParams(state), { dataset: 'random', steps: 2, time_s: 1, seed: 1, metrics: {} }),
    );
    const stateBytes = await encodeTrainState(cfg, options, state);
    writeFileSync(`${model}.state.safetensors`, stateBytes);
    disposeTrainState(state);
    const out = join(dir, 'raw.safetensors');
    const r = await runFarmer([
      'convert',
      'raw-weights',
      model,
      '--out',
      out,
      '--note',
      'raw: lower test BPD',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ out, step: 2 });
    const raw = readCheckpoint(readFileSync(out));
    const ema = readCheckpoint(readFileSync(model));
    const file = parseSafetensors(stateBytes);
    let differs = false;
    for (const t of file.tensors.filter((t) => t.name.startsWith('param/'))) {
      const name = t.name.slice(6);
      expect(Array.from(raw.weights.get(name)!.values), name).toEqual(Array.from(readFloat32(file, t)));
      differs ||= raw.weights.get(name)!.values.some((v, i) => v !== ema.weights.get(name)!.values[i]);
    }
    expect(differs).toBe(true);
    expect(raw.card).toEqual({ ...ema.card, weights: 'raw: lower test BPD' });
  });
});
