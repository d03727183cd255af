import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/lib/farmer/config';
import { initParams, paramShapes } from '../../src/lib/farmer/params';
import { countParams, disposeParams, type Params } from '../../src/lib/nn/params';
import {
  CheckpointError,
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
  saveCheckpointAsync,
} from '../../src/lib/io/checkpoint';
import { rawFile, rebuild, split, tinyCard, tinyConfig, tinyRawConfig, type Header } from './helpers';

let params: Params;
let valid: Uint8Array;
const config = tinyConfig();

beforeAll(async () => {
  await tf.setBackend('cpu');
  params = initParams(config, { seed: 1, projOutStd: 0.01 });
  valid = saveCheckpoint(config, params, tinyCard());
});
afterAll(() => disposeParams(params));

/** The error loadCheckpoint throws, checking that a refusal leaves no tensors behind. */
function refusal(bytes: Uint8Array): CheckpointError {
  const before = tf.memory().numTensors;
  try {
    const { params: p } = loadCheckpoint(bytes, 'm.safetensors');
    disposeParams(p);
  } catch (e) {
    expect(tf.memory().numTensors).toBe(before);
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as Error).message.startsWith('m.safetensors: ')).toBe(true);
    return e as CheckpointError;
  }
  throw new Error('the file was accepted');
}

const setMeta = (key: string, value: string | undefined) =>
  rebuild(valid, (h) => {
    if (value === undefined) delete h.__metadata__[key];
    else h.__metadata__[key] = value;
  });

/** The byte range of a tensor inside the data buffer. */
const range = (h: Header, name: string): [number, number] => h[name].data_offsets;

describe('checkpoint round trip', () => {
  it('restores every tensor exactly, with config and card', () => {
    const { config: c, card, params: loaded, summary } = loadCheckpoint(valid, 'tiny.safetensors');
    try {
      expect(c).toEqual(config);
      expect(card).toEqual(tinyCard());
      expect([...loaded.keys()]).toEqual([...paramShapes(config).keys()]);
      for (const [name, t] of params) {
        const u = loaded.get(name)!;
        expect(u.dtype).toBe('float32');
        expect(u.shape).toEqual(t.shape);
        expect(u.dataSync()).toEqual(t.dataSync());
      }
      expect(summary).toEqual({
        parameters: countParams(params),
        tensors: params.size,
        fileBytes: valid.length,
        dtypes: { F32: params.size },
      });
      const { header } = split(valid);
      expect(header.__metadata__.format).toBe('farmer-workbench');
      expect(header.__metadata__.version).toBe('1');
      expect(JSON.parse(header.__metadata__.config)).toEqual(config);
    } finally {
      disposeParams(loaded);
    }
  });

  it('saves the same bytes from the async path', async () => {
    expect(await saveCheckpointAsync(config, params, tinyCard())).toEqual(valid);
  });

  it('stores float16 within half an ulp of float16', () => {
    const half = saveCheckpoint(config, params, tinyCard(), { dtype: 'F16' });
    expect(half.length).toBeLessThan(valid.length * 0.6);
    const { weights, summary } = readCheckpoint(half);
    expect(summary.dtypes).toEqual({ F16: params.size });
    for (const [name, t] of params) {
      const x = t.dataSync(),
        y = weights.get(name)!.values;
      for (let i = 0; i < x.length; i++) {
        const ulp = Math.max(2 ** Math.floor(Math.log2(Math.abs(x[i]) || 2 ** -24)) * 2 ** -10, 2 ** -24);
        expect(Math.abs(x[i] - y[i])).toBeLessThanOrEqual(ulp / 2);
      }
    }
  });

  it('round-trips a gaussian-prior, class-conditional AF (different tensor names)', () => {
    const cfg = parseConfig({
      ...structuredClone(tinyRawConfig),
      prior: { kind: 'gaussian' },
      af: { ...tinyRawConfig.af, class_conditional: true },
    });
    const p = initParams(cfg, { seed: 3 });
    const { params: q, config: c } = loadCheckpoint(saveCheckpoint(cfg, p, tinyCard()));
    expect(c).toEqual(cfg);
    expect(q.has('af.blocks.1.class_embed')).toBe(true);
    expect(q.get('af.blocks.1.class_embed')!.dataSync()).toEqual(p.get('af.blocks.1.class_embed')!.dataSync());
    disposeParams(p);
    disposeParams(q);
  });

  it('refuses to save NaN weights, missing or extra tensors, a bad card', () => {
    const withNaN: Params = new Map(params);
    const values = new Float32Array(16);
    values[3] = NaN;
    const nanT = tf.tensor(values, [16]);
    withNaN.set('ar.norm.bias', nanT);
    expect(() => saveCheckpoint(config, withNaN, tinyCard())).toThrow(
      /cannot save: tensor ar\.norm\.bias has 1 NaN and 0 Inf/,
    );
    const missing: Params = new Map(params);
    missing.delete('ar.cond_pos');
    expect(() => saveCheckpoint(config, missing, tinyCard())).toThrow(/missing tensor ar\.cond_pos \[2, 16\]/);
    const extra: Params = new Map(params);
    extra.set('ar.bogus', nanT);
    expect(() => saveCheckpoint(config, extra, tinyCard())).toThrow(/unexpected tensor ar\.bogus/);
    expect(() => saveCheckpoint(config, params, { ...tinyCard(), steps: -1 })).toThrow(/card\.steps/);
    const big: Params = new Map(params);
    const bigT = tf.fill([16], 1e5);
    big.set('ar.norm.bias', bigT);
    expect(() => saveCheckpoint(config, big, tinyCard(), { dtype: 'F16' })).toThrow(
      /ar\.norm\.bias has 16 values beyond the float16 range/,
    );
    nanT.dispose();
    bigT.dispose();
  });
});

describe('malformed checkpoints are refused with one clear error', () => {
  it('a file shorter than 8 bytes, or empty', () => {
    expect(refusal(valid.slice(0, 5)).message).toMatch(/5 bytes, shorter than the 8-byte header length/);
    expect(refusal(new Uint8Array(0)).message).toMatch(/0 bytes/);
  });

  it('a truncated file (inside the header and inside the data)', () => {
    expect(refusal(valid.slice(0, 40)).message).toMatch(
      /header length \d+ bytes runs past the end of the file \(40 bytes\)/,
    );
    const last = [...paramShapes(config).keys()].at(-1)!;
    expect(refusal(valid.slice(0, valid.length - 3)).message).toMatch(
      new RegExp(`tensor ${last.replaceAll('.', '\\.')}: data_offsets .* past the end of the data .*truncated`),
    );
  });

  it('a header length of 2^40 (and 2^64 − 1) fails fast without allocating', () => {
    for (const hi of [0x100, 0xffffffff]) {
      const bytes = new Uint8Array(64);
      const v = new DataView(bytes.buffer);
      v.setUint32(0, hi === 0x100 ? 0 : 0xffffffff, true);
      v.setUint32(4, hi, true);
      const t0 = performance.now();
      expect(refusal(bytes).message).toMatch(/header length \d+ bytes is absurdly large/);
      expect(performance.now() - t0).toBeLessThan(50);
    }
  });

  it('a header that is not JSON, or not an object', () => {
    expect(refusal(rawFile('{"a": 1')).message).toMatch(/header is not valid JSON/);
    expect(refusal(rawFile('[1, 2, 3]')).message).toMatch(/header is not a JSON object/);
    expect(refusal(rawFile('null    ')).message).toMatch(/header is not a JSON object/);
  });

  it('metadata: missing, wrong format or version, missing or bad config and card', () => {
    expect(refusal(rebuild(valid, (h) => void delete h.__metadata__)).message).toMatch(
      /no "format": not a farmer-workbench checkpoint/,
    );
    expect(refusal(setMeta('format', 'pt')).message).toMatch(/format is "pt", expected "farmer-workbench"/);
    expect(refusal(setMeta('version', '2')).message).toMatch(/unsupported checkpoint version "2"/);
    expect(refusal(setMeta('version', undefined)).message).toMatch(/metadata has no "version"/);
    expect(refusal(setMeta('config', undefined)).message).toMatch(/metadata has no "config"/);
    expect(refusal(setMeta('config', '{oops')).message).toMatch(/metadata "config" is not valid JSON/);
    expect(refusal(setMeta('config', JSON.stringify({ ...tinyRawConfig, patch_size: 3 }))).message).toMatch(
      /bad config in metadata: config: image 8×8 is not divisible by patch_size 3/,
    );
    expect(refusal(setMeta('card', undefined)).message).toMatch(/metadata has no "card"/);
    expect(refusal(setMeta('card', '[]')).message).toMatch(/card is not a JSON object/);
    const { steps: _, ...noSteps } = tinyCard();
    expect(refusal(setMeta('card', JSON.stringify(noSteps))).message).toMatch(/card is missing "steps"/);
    expect(refusal(setMeta('card', JSON.stringify({ ...tinyCard(), metrics: 3 }))).message).toMatch(
      /card\.metrics must be an object/,
    );
    expect(refusal(rebuild(valid, (h) => void (h.__metadata__.extra = 5))).message).toMatch(
      /__metadata__\.extra is not a string/,
    );
  });

  it('an unknown or non-float dtype', () => {
    const name = 'af.blocks.0.proj_in.weight';
    expect(refusal(rebuild(valid, (h) => void (h[name].dtype = 'Q4'))).message).toBe(
      `m.safetensors: tensor ${name}: unknown dtype "Q4"`,
    );
    expect(refusal(rebuild(valid, (h) => void (h[name].dtype = 'I32'))).message).toMatch(
      `tensor ${name} has dtype I32; weights must be`,
    );
  });

  it('data_offsets out of range, overlapping, or inconsistent with the shape', () => {
    const a = 'af.blocks.0.proj_in.bias',
      b = 'af.blocks.0.layers.0.attn_norm.weight'; // both [16] F32
    expect(
      refusal(rebuild(valid, (h, d) => void (h[a].data_offsets = [d.length - 32, d.length + 32]))).message,
    ).toMatch(
      new RegExp(`tensor ${a.replaceAll('.', '\\.')}: data_offsets \\[\\d+, \\d+\\] run past the end of the data`),
    );
    const overlap = refusal(rebuild(valid, (h) => void (h[b].data_offsets = [...range(h, a)]))).message;
    expect(overlap).toMatch(/overlap those of/);
    expect(overlap.includes(a) && overlap.includes(b)).toBe(true);
    expect(refusal(rebuild(valid, (h) => void (h[a].shape = [17]))).message).toMatch(`tensor ${a}: data_offsets [`);
    expect(refusal(rebuild(valid, (h) => void (h[a].shape = [17]))).message).toMatch(
      /hold 64 bytes, but shape \[17\] of F32 needs 68/,
    );
    expect(refusal(rebuild(valid, (h) => void (h[a].data_offsets = 'x'))).message).toMatch(
      `tensor ${a}: data_offsets "x" is not a pair`,
    );
  });

  it('a missing tensor, an extra tensor, a wrong shape', () => {
    expect(refusal(rebuild(valid, (h) => void delete h['ar.head_red.bias'])).message).toBe(
      'm.safetensors: missing tensor ar.head_red.bias [10]',
    );
    expect(refusal(rebuild(valid, (h) => void (delete h['ar.norm.bias'], delete h['ar.norm.weight']))).message).toMatch(
      /missing tensor ar\.norm\.weight \[16\] \(and 1 more\)/,
    );
    const extra = rebuild(valid, (h, d) => {
      h['ar.extra.weight'] = { dtype: 'F32', shape: [2], data_offsets: [d.length, d.length + 8] };
      const out = new Uint8Array(d.length + 8);
      out.set(d);
      return out;
    });
    expect(refusal(extra).message).toMatch(/unexpected tensor ar\.extra\.weight \[2\]: not part of this config/);
    const name = 'af.blocks.0.proj_in.weight'; // [16, 4]
    expect(refusal(rebuild(valid, (h) => void (h[name].shape = [4, 16]))).message).toBe(
      `m.safetensors: tensor ${name} has shape [4, 16], expected [16, 4]`,
    );
  });

  it('NaN or Inf values in a weight, with the tensor and the count', () => {
    const name = 'af.blocks.1.layers.0.mlp.fc1.weight';
    const bytes = rebuild(valid, (h, d) => {
      const [begin] = range(h, name);
      const view = new DataView(d.buffer, d.byteOffset);
      view.setFloat32(begin, NaN, true);
      view.setFloat32(begin + 8, NaN, true);
      view.setFloat32(begin + 12, -Infinity, true);
    });
    expect(refusal(bytes).message).toBe(`m.safetensors: tensor ${name} has 2 NaN and 1 Inf values (of 512)`);
    const half = saveCheckpoint(config, params, tinyCard(), { dtype: 'F16' });
    const withInf = rebuild(
      half,
      (h, d) => void new DataView(d.buffer, d.byteOffset).setUint16(range(h, 'ar.cond_pos')[0], 0x7c00, true),
    );
    expect(refusal(withInf).message).toMatch(/tensor ar\.cond_pos has 0 NaN and 1 Inf values \(of 32\)/);
  });
});
