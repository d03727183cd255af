// `farmer reproduce`: in-process with a fake experiment on a tiny checkpoint (parameters from
// flags, what the JSON records, SVG files for a Plot chart and an HTML image figure, refusals),
// and as a user runs it (`node bin/farmer.mjs reproduce …`) with the real experiments on a tiny
// random 28×28 MNIST-shaped checkpoint.
import * as Plot from '@observablehq/plot';
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { beforeAll, describe, expect, it } from 'vitest';
import { reproduce, type ReproduceDeps } from '../../src/cli/commands/reproduce';
import { choice, defineParams, flag, integer, real, seed } from '../../src/lib/experiments/params';
import type { AnyExperiment, ExperimentInputs } from '../../src/lib/experiments/types';
import { tempDir, writeTinyCheckpoint } from '../helpers/files';
import { runFarmer } from '../helpers/cli';

const testSet = {
  n: 3,
  height: 4,
  width: 4,
  channels: 1,
  numClasses: 10,
  images: new Uint8Array(48).fill(7),
  labels: new Uint8Array(3),
};

function fakeExperiment(seen: { inputs?: ExperimentInputs; dims?: number }[]): AnyExperiment {
  return {
    id: 'logdet',
    title: 'Fake logdet',
    params: defineParams({
      n: integer(1, 1000, 2),
      scale: real(0, 10, 1.5),
      mode: choice(['mean', 'max'], 'mean'),
      flag: flag(false),
      seed: seed(),
    }),
    needs: { featureNet: false, teacher: false },
    thumbnail: { figure: 'samples', alt: '', params: {}, seed: 0 },
    cost: (p) => ({ units: p.n, description: `${p.n} fake images` }),
    async run(model, inputs, p, ctx) {
      seen.push({ inputs, dims: model.dims.pixels });
      ctx?.onProgress?.(1, 1);
      return {
        points: Array.from({ length: p.n }, (_, i) => ({ i, v: i * p.scale + p.seed })),
        pixels: new Uint8Array([1, 2]),
      };
    },
    toJSON: (r) => r,
    figures(r, _p, doc) {
      const chart = Plot.plot({ document: doc, marks: [Plot.dot(r.points, { x: 'i', y: 'v' })] }) as SVGElement;
      const grid = doc.createElement('figure');
      const img = doc.createElement('img');
      img.setAttribute('src', 'data:image/png;base64,iVBORw0KGgo=');
      img.setAttribute('width', '84');
      img.setAttribute('height', '84');
      grid.append(img);
      return [
        { name: 'Values by index', node: chart },
        { name: 'samples', node: grid },
      ];
    },
  };
}

function deps(seen: { inputs?: ExperimentInputs }[]): ReproduceDeps {
  return {
    loadExperiment: async () => fakeExperiment(seen),
    sources: {
      teacher: () => Promise.reject(new Error('no teacher in this test')),
      testSet: async (name) => (name === 'mnist' ? testSet : Promise.reject(new Error('no'))),
      featureNet: () => Promise.reject(new Error('not needed')),
    },
  };
}

let dir: string, ckpt: string, randomCkpt: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tempDir('farmer-reproduce-');
  ({ path: ckpt } = writeTinyCheckpoint(dir, 'tiny.safetensors', {}, 1, { dataset: 'mnist' }));
  ({ path: randomCkpt } = writeTinyCheckpoint(dir, 'random.safetensors'));
});

describe('reproduce (in-process, fake experiment)', () => {
  it('runs with defaults overridden by --param and --seed and writes the JSON and one SVG per figure', async () => {
    const seen: { inputs?: ExperimentInputs; dims?: number }[] = [];
    const out = join(dir, 'out1');
    const summary = await reproduce(
      { experiment: 'logdet', model: ckpt, out, seed: 5, params: ['n=3', 'mode=max', 'flag=true'], backend: 'cpu' },
      deps(seen),
    );
    expect(seen[0].inputs!.testSet).toBe(testSet);
    expect(seen[0].dims).toBe(16);
    const hash = createHash('sha256').update(readFileSync(ckpt)).digest('hex');
    expect(summary).toMatchObject({
      experiment: 'logdet',
      title: 'Fake logdet',
      seed: 5,
      backend: 'cpu',
      cost: '3 fake images',
      model: { source: ckpt, name: 'tiny.safetensors', hash },
      params: { n: 3, scale: 1.5, mode: 'max', flag: true, seed: 5 },
    });
    expect(summary.files).toEqual([
      join(out, 'logdet.json'),
      join(out, 'logdet-values-by-index.svg'),
      join(out, 'logdet-samples.svg'),
    ]);
    expect(readdirSync(out).sort()).toEqual(['logdet-samples.svg', 'logdet-values-by-index.svg', 'logdet.json']);

    const json = JSON.parse(readFileSync(join(out, 'logdet.json'), 'utf8'));
    expect(json).toEqual({
      experiment: 'logdet',
      title: 'Fake logdet',
      model: { source: ckpt, name: 'tiny.safetensors', hash },
      seed: 5,
      backend: 'cpu',
      params: { n: 3, scale: 1.5, mode: 'max', flag: true, seed: 5 },
      cost: '3 fake images',
      figures: [
        { name: 'Values by index', file: 'logdet-values-by-index.svg' },
        { name: 'samples', file: 'logdet-samples.svg' },
      ],
      data: {
        points: [
          { i: 0, v: 5 },
          { i: 1, v: 6.5 },
          { i: 2, v: 8 },
        ],
        pixels: [1, 2],
      },
    });

    // Both SVGs are standalone XML documents; the chart has its three dots, the image grid is
    // the HTML figure inside a foreignObject.
    const parse = (f: string) =>
      new JSDOM(readFileSync(join(out, f), 'utf8'), { contentType: 'image/svg+xml' }).window.document;
    const chart = parse('logdet-values-by-index.svg');
    expect(chart.documentElement.namespaceURI).toBe('http://www.w3.org/2000/svg');
    expect(chart.querySelectorAll('circle').length).toBe(3);
    const grid = parse('logdet-samples.svg');
    expect(grid.documentElement.getAttribute('width')).toBe('320');
    expect(grid.querySelector('foreignObject img')?.getAttribute('src')).toBe('data:image/png;base64,iVBORw0KGgo=');
  });

  it('refuses unknown experiments and parameters, a seed through --param, invalid values and datasets it has no test split for', async () => {
    const o = { model: ckpt, out: join(dir, 'out2'), params: [] as string[], backend: 'cpu' };
    const message = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: Error) => `${e.name}: ${e.message}`,
      );
    expect(await message(reproduce({ ...o, experiment: 'nope' }, deps([])))).toBe(
      'UsageError: unknown experiment "nope" (one of separation, logdet, sensitivity, likelihood, redundant, guidance, distill)',
    );
    expect(await message(reproduce({ ...o, experiment: 'logdet', params: ['x=1'] }, deps([])))).toBe(
      'UsageError: logdet has no parameter "x" (it takes n, scale, mode, flag)',
    );
    expect(await message(reproduce({ ...o, experiment: 'logdet', params: ['n'] }, deps([])))).toBe(
      'UsageError: --param needs key=value, got "n"',
    );
    expect(await message(reproduce({ ...o, experiment: 'logdet', params: ['seed=2'] }, deps([])))).toBe(
      'UsageError: set the seed with --seed, not --param',
    );
    expect(await message(reproduce({ ...o, experiment: 'logdet', params: ['n=zero'] }, deps([])))).toBe(
      'UsageError: invalid n: "zero" (an integer in [1, 1000])',
    );
    expect(await message(reproduce({ ...o, model: randomCkpt, experiment: 'logdet' }, deps([])))).toMatch(
      /was trained on "random"; experiments need one of mnist, colored-mnist$/,
    );
    expect(existsSync(join(dir, 'out2'))).toBe(false);
  });
});

const farmer = (...args: string[]) => runFarmer(args, { timeoutMs: 240_000 });

describe('farmer reproduce (command line, real experiments)', () => {
  let mnistCkpt: string;
  beforeAll(() => {
    // MNIST-shaped: 28×28×1, patch 7 (16 tokens), width 16, 10 classes, trained "on" mnist.
    ({ path: mnistCkpt } = writeTinyCheckpoint(
      dir,
      'mnist-tiny.safetensors',
      { size: 28, patch: 7, numClasses: 10 },
      2,
      { dataset: 'mnist' },
    ));
  });

  it('names the problem with bad arguments', async () => {
    const none = await farmer('reproduce', '--model', mnistCkpt, '--out', join(dir, 'x'));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing <experiment>: one of separation, logdet, sensitivity/);
    const bad = await farmer('reproduce', 'nope', '--model', mnistCkpt, '--out', join(dir, 'x'), '--backend', 'cpu');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown experiment "nope"/);
    const noOut = await farmer('reproduce', 'logdet', '--model', mnistCkpt);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/missing --out/);
  });

  it('logdet on a tiny MNIST-shaped checkpoint: JSON and SVGs, the same for the same seed', async () => {
    const outs = [join(dir, 'logdet-a'), join(dir, 'logdet-b')];
    for (const out of outs) {
      const r = await farmer(
        'reproduce',
        'logdet',
        '--model',
        mnistCkpt,
        '--out',
        out,
        '--seed',
        '3',
        '--param',
        'nTest=4',
        '--param',
        'nSamples=1',
        '--backend',
        'cpu',
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary).toMatchObject({
        experiment: 'logdet',
        seed: 3,
        backend: 'cpu',
        params: { nTest: 4, nSamples: 1, seed: 3 },
      });
      expect(summary.files[0]).toBe(join(out, 'logdet.json'));
      expect(summary.files.length).toBeGreaterThan(1);
      for (const f of summary.files.slice(1)) {
        const text = readFileSync(f, 'utf8');
        expect(text).toMatch(/^<\?xml[^>]*>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
        expect(() => new JSDOM(text, { contentType: 'image/svg+xml' }), f).not.toThrow();
      }
    }
    expect(readFileSync(join(outs[0], 'logdet.json'), 'utf8')).toBe(readFileSync(join(outs[1], 'logdet.json'), 'utf8'));
  });

  it('separation on a tiny MNIST-shaped checkpoint', async () => {
    const out = join(dir, 'separation');
    const r = await farmer(
      'reproduce',
      'separation',
      '--model',
      mnistCkpt,
      '--out',
      out,
      '--param',
      'images=1',
      '--param',
      'levels=2',
      '--backend',
      'cpu',
    );
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')[0]).toBe(join(out, 'separation.json'));
    const json = JSON.parse(readFileSync(join(out, 'separation.json'), 'utf8'));
    expect(json).toMatchObject({ experiment: 'separation', seed: 0, backend: 'cpu', params: { images: 1, levels: 2 } });
    expect(json.data).toBeDefined();
  });

  const featureNet = existsSync(new URL('../../static/models/features-mnist.safetensors', import.meta.url));
  it.skipIf(!featureNet)('sensitivity (with the MNIST feature network) on one grid point', async () => {
    const out = join(dir, 'sensitivity');
    const r = await farmer(
      'reproduce',
      'sensitivity',
      '--model',
      mnistCkpt,
      '--out',
      out,
      '--seed',
      '2',
      ...['T=1', 's=1', 'n=4', 'keep=2', 'batch=4', 'table5=false'].flatMap((p) => ['--param', p]),
      '--backend',
      'cpu',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ experiment: 'sensitivity', seed: 2, params: { n: 4, table5: false } });
    for (const f of summary.files.slice(1))
      expect(() => new JSDOM(readFileSync(f, 'utf8'), { contentType: 'image/svg+xml' }), f).not.toThrow();
  });

  it.skipIf(!featureNet)(
    'distill on the zoo student, with the teacher its card names found in the zoo by hash',
    async () => {
      const out = join(dir, 'distill');
      const r = await farmer(
        'reproduce',
        'distill',
        '--model',
        'mnist-farmer-student',
        '--out',
        out,
        '--seed',
        '1',
        ...['n=4', 'keep=2', 'repeats=1'].flatMap((p) => ['--param', p]),
        '--backend',
        'cpu',
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      const data = JSON.parse(readFileSync(join(out, 'distill.json'), 'utf8')).data;
      expect(data.agreement).toHaveLength(4);
      expect(data.reading[0]).toMatch(/^AF inverse per image on cpu/);
      // a teacher loaded in the student's place is refused with one message
      const wrong = await farmer('reproduce', 'distill', '--model', 'mnist-farmer', '--out', out, '--backend', 'cpu');
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/load a student \(e\.g\. mnist-farmer-student\), not a teacher/);
    },
  );
});
