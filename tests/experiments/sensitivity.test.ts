// The sensitivity experiment (decoupled sampling, suppl. §7 / Fig. 7 / Table 5) on a tiny random
// 8×8 model, a tiny random feature network and a synthetic test set.
import * as tf from '@tensorflow/tfjs';
import { JSDOM } from 'jsdom';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { experiment, type SensitivityParams, type SensitivityResult } from '../../src/lib/experiments/sensitivity';
import { metricLines, sampleGrid } from '../../src/lib/experiments/sensitivity/figures';
import { reading } from '../../src/lib/experiments/sensitivity/reading';
import { pointSeed } from '../../src/lib/experiments/sensitivity/result';
import { figureSvg } from '../../src/lib/experiments/export';
import { metricFormatter } from '../../src/lib/plots/format';
import { base64ToBytes } from '../../src/lib/plots/pixels';
import { pickOf, shownIndex, timeEstimate, WASM_SECONDS_PER_UNIT } from '../../src/notebooks/sensitivity/pick';
import { modelToPixels } from '../../src/lib/data/dequantize';
import type { LabelledSet } from '../../src/lib/data/binfile';
import { createClassifier, FEATURE_DIM } from '../../src/lib/metrics/classifier';
import { computeFeatures, type FeatureNet } from '../../src/lib/metrics/features';
import { fid } from '../../src/lib/metrics/fid';
import { inceptionScore } from '../../src/lib/metrics/inception';
import { sample } from '../../src/lib/farmer/sampling';
import type { FarmerModel } from '../../src/lib/farmer/model';
import { Rng } from '../../src/lib/util/random';
import { tinyModel } from '../helpers/tiny';

let model: FarmerModel;
let net: FeatureNet;
let testSet: LabelledSet;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = tinyModel({ size: 8, patch: 2 }); // 3 classes, FARMER prior, 16 tokens
  net = {
    classifier: createClassifier({ height: 8, width: 8, channels: 1, heads: { digit: 3 } }, new Rng(11)),
    card: { dataset: 'tiny' },
  };
  const rng = new Rng(12),
    n = 24;
  testSet = {
    n,
    height: 8,
    width: 8,
    channels: 1,
    numClasses: 3,
    images: Uint8Array.from({ length: n * 64 }, () => rng.int(256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
  };
});

function params(over: Partial<SensitivityParams> = {}): SensitivityParams {
  return experiment.params.parse({ T: '0.8,1.3', s: '0.9,1', n: 6, keep: 2, batch: 4, seed: 3, ...over }, model);
}

async function runCollect(p: SensitivityParams, m = model) {
  const partials: SensitivityResult[] = [];
  const progress: [number, number][] = [];
  const result = await experiment.run(m, { testSet, featureNet: net }, p, {
    onPartial: (x) => partials.push(structuredClone(x as SensitivityResult)),
    onProgress: (done, total) => progress.push([done, total]),
  });
  return { result, partials, progress };
}

/** Everything but wall-clock seconds. */
function numbers(r: SensitivityResult) {
  const strip = <T extends { seconds: number } | null>(x: T) => (x ? { ...x, seconds: 0 } : x);
  return {
    cells: r.cells.map(strip),
    table5: r.table5?.rows.map((row) => ({ ...row, unguided: strip(row.unguided), guided: strip(row.guided) })),
  };
}

describe('sensitivity experiment', () => {
  let full: Awaited<ReturnType<typeof runCollect>>;
  beforeAll(async () => {
    full = await runCollect(params());
  });

  it('sends the result so far after every grid cell and Table 5 entry; the last one is the result', () => {
    const { result, partials, progress } = full;
    expect(partials.map((p) => p.cells.filter((c) => c !== null).length)).toEqual([0, 1, 2, 3, 4, 4, 4, 4, 4]);
    const filled = (p: SensitivityResult) =>
      p.table5!.rows.map((r) => `${r.unguided ? 'u' : '-'}${r.guided ? 'g' : '-'}`).join(' ');
    expect(partials.slice(4).map(filled)).toEqual(['-- --', 'u- --', 'ug --', 'ug u-', 'ug ug']);
    expect(partials[partials.length - 1]).toEqual(result);
    // grid layout: index iT·|s| + iS
    expect(result.T).toEqual([0.8, 1.3]);
    expect(result.s).toEqual([0.9, 1]);
    expect(result.cells.map((c) => [c!.T, c!.s])).toEqual([
      [0.8, 0.9],
      [0.8, 1],
      [1.3, 0.9],
      [1.3, 1],
    ]);
    // Table 5: (1.3, 0.9) is on this grid and reuses its run; (1, 1) is not and gets its own
    const rows = result.table5!.rows;
    expect(rows.map((r) => r.unguided!.fromGrid)).toEqual([false, true]);
    const pick = (e: { fid: number | null; is: number | null; seed: number; finite: number }) => [
      e.fid,
      e.is,
      e.seed,
      e.finite,
    ];
    expect(pick(rows[1].unguided!)).toEqual(pick(result.cells[2]!));
    expect(rows[0].unguided!.seed).toBe(pointSeed(3, 1, 1));
    expect(rows.every((r) => r.guided!.cfg!.w === 2.5)).toBe(true);
    // progress: monotone, ends at its total (grid 4 + 1 Table 5 run + 2 CFG runs counted twice) × n
    const last = progress[progress.length - 1];
    expect(last).toEqual([(4 + 1 + 2 * 2) * 6, (4 + 1 + 2 * 2) * 6]);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
    expect(result.fidLabel).toBe('FID (tiny-cnn features, not Inception)');
  });

  it('gives the same numbers for the same seed, per point, whatever the rest of the grid', async () => {
    const tensors = tf.memory().numTensors;
    const again = await runCollect(params({ table5: false }));
    expect(tf.memory().numTensors).toBe(tensors); // no tensor left behind
    expect(numbers(again.result).cells).toEqual(numbers(full.result).cells);
    const single = await runCollect(params({ T: [1.3], s: [0.9], table5: false }));
    expect(numbers(single.result).cells[0]).toEqual(numbers(full.result).cells[2]);
    const other = await runCollect(params({ T: [1.3], s: [0.9], table5: false, seed: 4 }));
    expect(other.result.cells[0]!.seed).not.toBe(full.result.cells[2]!.seed);
    expect(other.result.cells[0]!.samples).not.toBe(full.result.cells[2]!.samples);
  });

  it("computes each point's FID and IS as the metrics module does on the same finite samples", async () => {
    const n = 6;
    // s = 8 blows some samples up to NaN/Inf in this random model: they must be counted and left out
    const { result } = await runCollect(params({ T: [1.3], s: [0.9, 8], keep: n, table5: false }));
    expect(result.cells[1]!.nonFinite).toBeGreaterThan(0);
    expect(result.notes.join(' ')).toMatch(/NaN or Inf/);
    const real = await computeFeatures(net, testSet.images.subarray(0, n * 64), n);
    for (const cell of result.cells.map((c) => c!)) {
      expect(cell.finite + cell.nonFinite).toBe(n);
      expect(cell.kept).toBe(cell.finite);
      expect(cell.finite).toBeGreaterThanOrEqual(2);
      // the kept samples are the engine's finite samples for this point's seed (batches of 4, then 2)
      const runSeed = pointSeed(3, cell.T, cell.s);
      const direct: number[] = [];
      let bad = 0;
      for (const [start, count] of [
        [0, 4],
        [4, 2],
      ]) {
        const labels = Int32Array.from({ length: count }, (_, i) => (start + i) % 3);
        const r = await sample(model, { n: count, seed: runSeed, first: start, labels, T: cell.T, s: cell.s });
        const x = (await r.images.data()) as Float32Array;
        r.finite.forEach((ok, i) => {
          if (ok) direct.push(...modelToPixels(x.subarray(i * 64, (i + 1) * 64), model.config.dequantization));
          else bad++;
        });
        tf.dispose([r.images, r.z]);
      }
      expect(bad).toBe(cell.nonFinite);
      const kept = base64ToBytes(cell.samples);
      expect(Array.from(kept)).toEqual(direct);
      // the pictures the page places (encoded in the run): every kept sample in its tile, 8 × 8 px, 1 px apart
      const all = decode(Buffer.from(cell.pictures!.all.href.replace('data:image/png;base64,', ''), 'base64'));
      expect([all.width, all.height]).toEqual([cell.pictures!.all.width, cell.pictures!.all.height]);
      const tiles: number[] = [];
      for (let i = 0; i < cell.kept; i++)
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) tiles.push(all.data[((1 + y) * all.width + 1 + (i % 8) * 9 + x) * all.channels]);
      expect(tiles).toEqual(direct);
      // FID and IS straight from the metrics module
      const fake = await computeFeatures(net, kept, cell.kept);
      expect(cell.fid).toBeCloseTo(fid(real.features, n, fake.features, cell.kept, FEATURE_DIM), 6);
      expect(cell.is).toBeCloseTo(inceptionScore(fake.probs.digit, cell.kept, 3).mean, 6);
    }
  });

  it('shows only the unguided column for an unconditional model, and runs the missing Table 5 points', async () => {
    const uncond = tinyModel({ size: 8, patch: 2, numClasses: 0 });
    const p = experiment.params.parse({ T: '0.8', s: '0.7', n: 4, batch: 4, keep: 1 }, uncond);
    expect(experiment.cost(p, uncond).description).toContain('2 more unguided runs');
    const { result, partials } = await runCollect(p, uncond);
    expect(result.labels).toBe('null');
    expect(result.table5!.cfgAvailable).toBe(false);
    expect(result.table5!.note).toMatch(/unconditional/);
    expect(result.table5!.rows.map((r) => [r.unguided!.fromGrid, r.guided])).toEqual([
      [false, null],
      [false, null],
    ]);
    expect(partials.every((x) => x.table5!.rows.every((r) => r.guided === null))).toBe(true);
    tf.dispose([...uncond.params.values()]);
  });

  it('stops between batches when cancelled', async () => {
    const ac = new AbortController();
    const run = experiment.run(model, { testSet, featureNet: net }, params({ table5: false }), {
      signal: ac.signal,
      onPartial: (x) => (x as SensitivityResult).cells.some((c) => c !== null) && ac.abort(),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('builds every figure, also from a result still filling', () => {
    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    const figs = [...experiment.figures(full.result, params(), doc)];
    expect(figs.map((f) => f.name)).toEqual([
      'fid-heatmap',
      'is-heatmap',
      'fid-vs-T',
      'fid-vs-s',
      'is-vs-T',
      'is-vs-s',
      'samples',
      'table5',
    ]);
    const points = (node: Element, sel = '[data-point]') =>
      [...node.querySelectorAll(sel)].map((e) => e.getAttribute('data-point')).sort();
    expect(points(figs[0].node)).toEqual(['0', '1', '2', '3']);
    // the label travels with the exported SVG of every FID figure
    const parser = new doc.defaultView!.DOMParser();
    for (const f of figs) {
      const { svg } = figureSvg(f);
      expect(parser.parseFromString(svg, 'image/svg+xml').querySelector('parsererror')).toBeNull();
      if (f.name.startsWith('fid') || f.name === 'table5')
        expect(svg).toContain('FID (tiny-cnn features, not Inception)');
    }
    expect(figureSvg(figs[2]).svg).toContain('s = 0.9'); // lines labelled inside the SVG
    expect(figs[2].node.querySelectorAll('path').length).toBeGreaterThan(0);
    expect(points(figs[6].node, 'image[data-point]')).toEqual(['0', '1', '2', '3']);
    expect(figs[6].node.querySelector('image')!.getAttribute('href')).toMatch(/^data:image\/png;base64,/);
    expect(figs[7].node.textContent).toMatch(/with CFG \(resampling, w = 2.5\)/);
    const grid = sampleGrid(full.result, 2, doc);
    expect(grid.textContent).toContain('T = 1.3, s = 0.9');
    expect(grid.querySelector('image')).not.toBeNull();
    // the first partial: every cell pending, figures still drawn
    const early = [...experiment.figures(full.partials[0], params(), doc)];
    expect(points(early[0].node)).toHaveLength(4);
    expect(early[6].node.querySelectorAll('image')).toHaveLength(0);
    expect(sampleGrid(full.partials[0], 0, doc).textContent).toContain('not been computed');
    expect(JSON.parse(JSON.stringify(experiment.toJSON(full.result, params())))).toMatchObject({
      experiment: 'sensitivity',
      T: [0.8, 1.3],
    });
  });
});

describe('sensitivity parameters and cost', () => {
  it('defaults hold the paper point s = 0.9, T = 1.3 and the default T = 1, s = 1', () => {
    const d = experiment.params.defaults(model);
    expect(d.T).toEqual(expect.arrayContaining([1, 1.3]));
    expect(d.s).toEqual(expect.arrayContaining([0.9, 1]));
    expect(experiment.params.parse({}, model)).toEqual(d);
  });

  it('normalises lists and rejects bad values with `invalid <name>`', () => {
    expect(experiment.params.parse({ T: ' 1.3 0.8, 1.3', s: [1, 0.9], n: '8', table5: 'false' }, model)).toMatchObject({
      T: [0.8, 1.3],
      s: [0.9, 1],
      n: 8,
      table5: false,
    });
    expect(() => experiment.params.parse({ T: '1,x' }, model)).toThrow(/^invalid T: "1,x"/);
    expect(() => experiment.params.parse({ s: '0' }, model)).toThrow(/^invalid s/);
    expect(() => experiment.params.parse({ n: 1 }, model)).toThrow(/^invalid n/);
    expect(() => experiment.params.parse({ table5: 'maybe' }, model)).toThrow(/^invalid table5/);
  });

  it('costs grid points × n × tokens plus the CFG runs', () => {
    const N = model.dims.tokens;
    expect(experiment.cost(params({ table5: false }), model).units).toBe(4 * 6 * N);
    expect(experiment.cost(params(), model).units).toBe((4 + 1 + 2 * 2) * 6 * N);
    expect(experiment.cost(params(), model).description).toMatch(
      /4 grid points \(2 T × 2 s\) × 6 samples × 16 tokens \+ 1 more unguided run for Table 5 \+ 2 CFG runs/,
    );
  });
});

describe('sensitivity page logic', () => {
  /** A hand-made 2×2 result: FID falls with T and with s, as in the paper. */
  function handMade(): SensitivityResult {
    const fids = [
      [40, 44],
      [30, 35],
    ]; // [iT][iS], T = 1, 1.3; s = 0.9, 1
    const cell = (iT: number, iS: number) => ({
      T: [1, 1.3][iT],
      s: [0.9, 1][iS],
      fid: fids[iT][iS],
      is: 2 + iT,
      n: 10,
      finite: iT === 1 && iS === 1 ? 9 : 10,
      nonFinite: iT === 1 && iS === 1 ? 1 : 0,
      seed: 1,
      seconds: 1,
      kept: 0,
      samples: '',
      pictures: null,
    });
    return {
      T: [1, 1.3],
      s: [0.9, 1],
      n: 10,
      seed: 0,
      featureNet: 'x-cnn',
      fidLabel: 'FID (x-cnn features, not Inception)',
      isLabel: 'IS',
      image: { height: 8, width: 8, channels: 1 },
      labels: 'null',
      cells: [cell(0, 0), cell(0, 1), cell(1, 0), null],
      table5: null,
      notes: [],
    };
  }

  it('maps clicked indices to points and falls back to the paper point', () => {
    const r = handMade();
    expect(pickOf(r, 1)).toEqual({ T: 1, s: 1 });
    expect(pickOf(r, 4)).toBeNull();
    expect(shownIndex(r, { T: 1, s: 1 })).toBe(1);
    expect(shownIndex(r, { T: 2, s: 1 })).toBe(2); // not on the grid: the paper's (1.3, 0.9)
    expect(shownIndex(r, null)).toBe(2);
  });

  it('reads the best point, the decoupled-vs-default change and the caveat from the numbers', () => {
    const text = reading(handMade()).join('\n');
    expect(text).toContain('Lowest FID on this grid: 30.0 at T = 1.3, s = 0.9; highest IS: 3.00 at T = 1.3, s = 0.9.');
    expect(text).toContain('(T = 1.3, s = 0.9) is 30.0, against 44.0 at T = 1, s = 1: lower by 32%');
    expect(text).toContain('At T = 1, going from s = 0.9 to s = 1 moves FID from 40.0 to 44.0');
    expect(text).toMatch(/Each FID compares 10 samples with 10 test images/);
  });

  it('labels line ends apart when lines end close together, inside the SVG', () => {
    const r = handMade();
    r.cells = r.cells.map((c, i) => c && { ...c, fid: [40, 44, 40.2, 0][i] }); // T = 1 and T = 1.3 end at s = 0.9… and 1 at 44 alone
    r.cells[3] = { ...r.cells[1]!, T: 1.3, fid: 44.1 }; // both lines end at s = 1 within 0.1 FID
    const doc = new JSDOM('<!doctype html><body></body>').window.document;
    const labels = [...metricLines(r, 'fid', 's', doc).querySelectorAll('g[aria-label=text] text')];
    expect(labels.map((t) => t.textContent).sort()).toEqual(['T = 1', 'T = 1.3']);
    const ys = labels.map((t) => Number(/translate\([^,]+,([^)]+)\)/.exec(t.getAttribute('transform')!)![1]));
    expect(Math.abs(ys[0] - ys[1])).toBeGreaterThanOrEqual(13);
  });

  it('prints heatmap values with enough decimals to tell close ones apart', () => {
    expect([1.00012, 1.00046].map(metricFormatter([1.00012, 1.00046]))).toEqual(['1.0001', '1.0005']);
    expect([2, 3].map(metricFormatter([2, 3]))).toEqual(['2.00', '3.00']);
    expect([1041.2, 1041.3].map(metricFormatter([1041.2, 1041.3]))).toEqual(['1041.2', '1041.3']);
    expect(metricFormatter([null, 1])(null)).toBe('–');
  });

  it('estimates time from the measured wasm rate and says when the backend is not measured', () => {
    const units = 12 * 100 * 49; // default grid on MNIST
    expect(timeEstimate(units, 'wasm')).toBe(
      `about ${Math.round((units * WASM_SECONDS_PER_UNIT) / 60)} min on WebAssembly (measured on a busy 2-core CPU)`,
    );
    expect(timeEstimate(100, 'webgpu', 'WebGPU')).toMatch(/^about 5 s on WebAssembly .*; WebGPU is not measured/);
  });
});
