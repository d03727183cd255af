// The worker's runExperiment handler with a fake experiment, fake data and a fake checkpoint
// loader: parameters (defaults, seed, validation), inputs (test split cached per dataset,
// feature network only when needed, an uploaded image), progress and partial events,
// cancellation, model lifetime across a run, and the model file hash.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LabelledSet } from '../../src/lib/data/binfile';
import { checkedModule, experimentIds, loadExperiment, type ExperimentId } from '../../src/lib/experiments/catalog';
import { defineParams, integer, seed } from '../../src/lib/experiments/params';
import { throwIfAborted, type AnyExperiment, type ExperimentInputs } from '../../src/lib/experiments/types';
import type { FeatureNet } from '../../src/lib/metrics/features';
import type { RunContext } from '../../src/lib/runtime/host';
import { parseRequest, toErrorEvent, type WorkerEvent } from '../../src/lib/runtime/protocol';
import { memoryStore } from '../../src/lib/runtime/backend-choice';
import { createHandlers, type WorkerDeps } from '../../src/lib/runtime/worker-handlers';

const testSet = (n: number): LabelledSet => ({
  n,
  height: 2,
  width: 2,
  channels: 1,
  numClasses: 10,
  images: new Uint8Array(n * 4),
  labels: new Uint8Array(n),
});

/** An experiment that records what it was given; `gate` holds it mid-run. Sensitivity needs the feature network, distill a teacher. */
function fakeExperiment(
  id: ExperimentId,
  log: { inputs?: ExperimentInputs; model?: unknown }[],
  gate?: Promise<void>,
): AnyExperiment {
  return {
    id,
    title: 'fake',
    params: defineParams({ n: integer(1, 100, 4), seed: seed() }),
    needs: { featureNet: id === 'sensitivity', teacher: id === 'distill' },
    thumbnail: { figure: 'none', alt: '', params: {}, seed: 0 },
    cost: (p) => ({ units: p.n, description: `${p.n} things` }),
    async run(model, inputs, p, ctx) {
      log.push({ inputs, model });
      ctx?.onProgress?.(1, 2, 'half');
      ctx?.onPartial?.({ sofar: 1 });
      await gate;
      throwIfAborted(ctx?.signal);
      ctx?.onProgress?.(2, 2);
      return { sum: p.n + p.seed, testN: inputs.testSet.n };
    },
    toJSON: (r) => r,
    figures: () => [],
  };
}

function setup(overrides: Partial<WorkerDeps> = {}, card: Record<string, unknown> = { dataset: 'mnist' }) {
  const disposed: string[] = [];
  const calls = { testSet: 0, featureNet: 0 };
  const runs: { inputs?: ExperimentInputs; model?: unknown }[] = [];
  let gate: Promise<void> | undefined;
  let release = () => {};
  const deps: WorkerDeps = {
    selectBackend: async () => ({ active: 'cpu', requested: 'cpu', attempts: [] }),
    useBackend: async () => true,
    probe: async () => ({ forwardMs: 1, sampleStepMs: 1 }),
    machine: async () => 'test machine',
    timings: memoryStore(),
    environment: async () => ({ crossOriginIsolated: false, wasmThreads: null }),
    fetch: (async () => new Response('', { status: 404 })) as typeof fetch,
    base: 'http://app.test/',
    readZooIndex: () => [],
    loadCheckpoint: async (bytes, name) => ({
      info: { name, parameters: bytes.byteLength, config: {} as never, card },
      model: { name } as never,
      dispose: () => disposed.push(name),
    }),
    loadExperiment: async (id) => fakeExperiment(id, runs, gate),
    loadTestSet: async () => (calls.testSet++, testSet(7)),
    loadFeatureNet: async () => (calls.featureNet++, { classifier: {} as never, card: {} } satisfies FeatureNet),
    ...overrides,
  };
  return {
    handlers: createHandlers(deps),
    disposed,
    calls,
    runs,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
  };
}

function context(controller = new AbortController()) {
  const events: WorkerEvent[] = [];
  const ctx: RunContext = {
    runId: 9,
    signal: controller.signal,
    progress: (done, total, label) =>
      events.push({ type: 'progress', runId: 9, done, total, ...(label === undefined ? {} : { label }) }),
    partial: (value) => events.push({ type: 'partial', runId: 9, value }),
    emit: (e) => events.push(e),
    transfer: () => {},
  };
  return { ctx, events, controller };
}

/** The code and message the host would send for what `p` throws. */
async function failure(p: unknown): Promise<[string, string]> {
  try {
    await p;
  } catch (e) {
    const event = toErrorEvent(9, e);
    return [event.code, event.message];
  }
  throw new Error('did not reject');
}

const load = (h: ReturnType<typeof setup>, name = 'm', bytes = new ArrayBuffer(8)) =>
  h.handlers.loadModel({ type: 'loadModel', runId: 1, bytes, name }, context().ctx);
const run = (
  h: ReturnType<typeof setup>,
  req: Partial<Parameters<ReturnType<typeof setup>['handlers']['runExperiment']>[0]> = {},
  ctx = context().ctx,
) => h.handlers.runExperiment({ type: 'runExperiment', runId: 9, experiment: 'logdet', params: {}, ...req }, ctx);

describe('runExperiment', () => {
  it('fills missing parameters with the defaults, sets the seed, and answers the parsed parameters and the result', async () => {
    const h = setup();
    await load(h);
    const { ctx, events } = context();
    const out = await run(h, { params: { n: 5 }, seed: 3 }, ctx);
    expect(out.params).toEqual({ n: 5, seed: 3 });
    expect(out.result).toEqual({ sum: 8, testN: 7 });
    expect(out.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(h.runs[0].model).toEqual({ name: 'm' });
    expect(events).toEqual([
      { type: 'progress', runId: 9, done: 1, total: 2, label: 'half' },
      { type: 'partial', runId: 9, value: { sofar: 1 } },
      { type: 'progress', runId: 9, done: 2, total: 2 },
    ]);
  });

  it('reads the test split once per dataset and the feature network only for experiments that need it', async () => {
    const h = setup();
    await load(h);
    await run(h);
    await run(h);
    expect(h.calls).toEqual({ testSet: 1, featureNet: 0 });
    expect(h.runs[0].inputs!.featureNet).toBeUndefined();
    await run(h, { experiment: 'sensitivity' });
    await run(h, { experiment: 'sensitivity' });
    expect(h.calls).toEqual({ testSet: 1, featureNet: 1 });
    expect(h.runs[2].inputs!.featureNet).toBeDefined();
  });

  it('passes an uploaded image through to the experiment', async () => {
    const h = setup();
    await load(h);
    const image = { pixels: new Uint8Array([1, 2, 3, 4]), height: 2, width: 2, channels: 1, label: 3 };
    await run(h, { image });
    expect(h.runs[0].inputs!.image).toEqual(image);
  });

  it('refuses to run without a model, on a dataset it has no test split for, and with invalid parameters', async () => {
    const h = setup();
    expect(await failure(run(h))).toEqual(['bad-request', 'no model is loaded: load one before running an experiment']);
    await load(h);
    expect(await failure(run(h, { params: { n: 0 } }))).toEqual([
      'bad-request',
      'invalid n: 0 (an integer in [1, 100])',
    ]);
    expect(await failure(run(h, { params: { m: 1 } }))).toEqual([
      'bad-request',
      'unknown parameter "m" (this experiment takes n, seed)',
    ]);
    const random = setup({}, { dataset: 'random' });
    await load(random);
    expect(await failure(run(random))).toEqual([
      'not-found',
      'model m was trained on "random"; experiments need one of mnist, colored-mnist',
    ]);
  });

  it('says clearly when the test split is missing, and tries again on the next run', async () => {
    let attempts = 0;
    const h = setup({
      loadTestSet: async () => {
        if (attempts++ === 0)
          throw new Error(
            'http://app.test/data/mnist-test.bin: HTTP 404 (build it with `npx tsx scripts/build-data.ts`)',
          );
        return testSet(3);
      },
    });
    await load(h);
    const [code, message] = await failure(run(h));
    expect(code).toBe('not-found');
    expect(message).toBe(
      'the mnist test split could not be read: http://app.test/data/mnist-test.bin: HTTP 404 (build it with `npx tsx scripts/build-data.ts`)',
    );
    expect((await run(h)).result).toEqual({ sum: 4, testN: 3 });
  });

  it('reports an experiment module that is not written yet as not-found', async () => {
    const h = setup({
      loadExperiment: () => Promise.reject(new Error('Failed to fetch dynamically imported module: logdet/index.ts')),
    });
    await load(h);
    expect(await failure(run(h))).toEqual([
      'not-found',
      'Failed to fetch dynamically imported module: logdet/index.ts',
    ]);
  });

  it('a cancelled run stops at its next check', async () => {
    const h = setup();
    await load(h);
    h.hold();
    const { ctx, controller } = context();
    const p = run(h, {}, ctx);
    await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    h.release();
    expect(await failure(p)).toEqual(['cancelled', 'cancelled']);
  });

  it('a model replaced during a run is disposed only when the run ends', async () => {
    const h = setup();
    await load(h, 'old');
    h.hold();
    const p = run(h);
    await new Promise((r) => setTimeout(r, 5));
    await load(h, 'new');
    expect(h.disposed).toEqual([]);
    h.release();
    await p;
    expect(h.disposed).toEqual(['old']);
    await load(h, 'newer');
    expect(h.disposed).toEqual(['old', 'new']);
  });
});

describe('loadModel', () => {
  it('answers the SHA-256 of the checkpoint file', async () => {
    const h = setup();
    const bytes = new TextEncoder().encode('checkpoint bytes').buffer as ArrayBuffer;
    const expected = createHash('sha256').update(new Uint8Array(bytes)).digest('hex');
    expect((await load(h, 'm', bytes)).hash).toBe(expected);
  });
});

describe('parseRequest runExperiment', () => {
  const ok = {
    type: 'runExperiment',
    runId: 1,
    experiment: 'separation',
    params: { alpha: 0.5, depths: 'all', flag: true },
  };
  it('accepts a well-formed request, with or without seed and image', () => {
    expect(parseRequest(ok)).toBe(ok);
    const image = { pixels: new Uint8Array(12), height: 2, width: 2, channels: 3, label: 1 };
    expect(parseRequest({ ...ok, seed: 4, image })).toMatchObject({ seed: 4, image });
  });
  it('rejects unknown experiments, nested params, bad seeds and images of the wrong size', () => {
    const bad = (m: object) => {
      try {
        parseRequest(m);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(bad({ ...ok, experiment: 'nope' })).toMatch(/unknown experiment "nope"/);
    expect(bad({ ...ok, params: { a: ['1'] } })).toMatch(
      /params.a must be a number, string, boolean or list of numbers/,
    );
    expect(bad({ ...ok, params: { a: { b: 1 } } })).toMatch(
      /params.a must be a number, string, boolean or list of numbers/,
    );
    expect(parseRequest({ ...ok, params: { depths: [1, 3] } })).toMatchObject({ params: { depths: [1, 3] } });
    expect(bad({ ...ok, params: null })).toMatch(/params must be an object/);
    expect(bad({ ...ok, seed: 1.5 })).toMatch(/seed must be an integer/);
    expect(bad({ ...ok, image: { pixels: [1], height: 1, width: 1, channels: 1 } })).toMatch(/Uint8Array/);
    expect(bad({ ...ok, image: { pixels: new Uint8Array(3), height: 2, width: 2, channels: 1 } })).toMatch(
      /3 values, not 2×2×1/,
    );
  });
});

describe('runExperiment with a teacher (the distillation notebook)', () => {
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const teacherBytes = new Uint8Array([7, 7, 7, 7]);
  const studentCard = (hash = sha(teacherBytes)) => ({
    dataset: 'mnist',
    teacher: { name: 'teach.safetensors', sha256: hash },
  });
  /** A zoo of two files served by a fake fetch; the teacher entry may carry its sha256. */
  function zoo(files: Record<string, Uint8Array>, entries: { name: string; file: string; sha256?: string }[]) {
    const fetched: string[] = [];
    const deps: Partial<WorkerDeps> = {
      fetch: (async (url: string) => {
        fetched.push(String(url));
        if (String(url).endsWith('index.json'))
          return new Response(JSON.stringify({ entries }), { headers: { 'content-type': 'application/json' } });
        const file = Object.keys(files).find((f) => String(url).endsWith(`/models/${f}`));
        return file ? new Response(new Blob([files[file].slice()])) : new Response('', { status: 404 });
      }) as typeof fetch,
      readZooIndex: (raw) =>
        (raw as { entries: typeof entries }).entries.map((e) => ({
          name: e.name,
          title: e.name,
          dataset: 'mnist',
          description: '',
          file: e.file,
          sha256: e.sha256,
        })),
      loadExperiment: async (id) => fakeExperiment(id, runsOf.runs),
    };
    const runsOf = { runs: [] as { inputs?: ExperimentInputs; model?: unknown }[] };
    return { deps, fetched, runsOf };
  }

  it('fetches the teacher the card names once, checks its hash, and hands it to the experiment', async () => {
    const z = zoo({ 'other.safetensors': new Uint8Array([1]), 'teach.safetensors': teacherBytes }, [
      { name: 'other', file: 'other.safetensors' },
      { name: 'teach', file: 'teach.safetensors' },
    ]);
    const h = setup(z.deps, studentCard());
    await load(h, 'student');
    await run(h, { experiment: 'distill' });
    await run(h, { experiment: 'distill' });
    expect(z.runsOf.runs.map((r) => r.inputs!.teacher)).toEqual([{ name: 'teach' }, { name: 'teach' }]);
    expect(z.fetched.filter((u) => u.endsWith('teach.safetensors'))).toHaveLength(1);
    await run(h, { experiment: 'logdet' });
    expect(z.runsOf.runs[2].inputs!.teacher).toBeUndefined();
  });

  it('finds the teacher by the sha256 the index records, whatever its name', async () => {
    const z = zoo({ 'renamed.safetensors': teacherBytes }, [
      { name: 'renamed', file: 'renamed.safetensors', sha256: sha(teacherBytes) },
    ]);
    const h = setup(z.deps, studentCard());
    await load(h, 'student');
    await run(h, { experiment: 'distill' });
    expect(z.runsOf.runs[0].inputs!.teacher).toEqual({ name: 'renamed' });
  });

  it('refuses a teacher whose bytes are not the recorded file, a teacher not in the zoo, and a model that is no student', async () => {
    const z = zoo({ 'teach.safetensors': new Uint8Array([9]) }, [{ name: 'teach', file: 'teach.safetensors' }]);
    const h = setup(z.deps, studentCard());
    await load(h, 'student');
    const [code, message] = await failure(run(h, { experiment: 'distill' }));
    expect(code).toBe('malformed');
    expect(message).toMatch(
      /^teach in http:\/\/app\.test\/models\/index\.json \(sha256 [0-9a-f]{12}…\) is not the file this student was distilled from \(sha256 [0-9a-f]{12}…\)/,
    );
    const missing = setup(zoo({}, [{ name: 'other', file: 'other.safetensors' }]).deps, studentCard());
    await load(missing, 'student');
    expect(await failure(run(missing, { experiment: 'distill' }))).toEqual([
      'not-found',
      `this student's teacher teach.safetensors (sha256 ${sha(teacherBytes).slice(0, 12)}…) is not in http://app.test/models/index.json`,
    ]);
    const plain = setup(zoo({}, []).deps, { dataset: 'mnist' });
    await load(plain, 'teacher-like');
    const [c2, m2] = await failure(run(plain, { experiment: 'distill' }));
    expect(c2).toBe('bad-request');
    expect(m2).toMatch(/^teacher-like: this model's card names no teacher/);
    expect(plain.disposed).toEqual([]);
  });
});

describe('experiment catalog', () => {
  it('loads every experiment it lists, each exporting itself under its own id with every part', async () => {
    expect(experimentIds).toEqual([
      'separation',
      'logdet',
      'sensitivity',
      'likelihood',
      'redundant',
      'guidance',
      'distill',
    ]);
    for (const id of experimentIds) {
      const e = await loadExperiment(id);
      expect(e.id).toBe(id);
      for (const part of ['cost', 'run', 'toJSON', 'figures'] as const) expect(typeof e[part]).toBe('function');
      expect(Object.keys(e.params.specs).length).toBeGreaterThan(0);
      expect(e.thumbnail.figure).not.toBe('');
    }
  });

  it('rejects an unknown id, a module that fails to load, and one that exports another id', async () => {
    await expect(loadExperiment('nope' as never)).rejects.toThrow(/unknown experiment "nope"/);
    await expect(checkedModule('logdet', Promise.reject(new SyntaxError('Unexpected token')))).rejects.toThrow(
      'Unexpected token',
    );
    const other = await loadExperiment('separation');
    await expect(checkedModule('logdet', Promise.resolve({ experiment: other }))).rejects.toThrow(
      /must export `experiment` with id "logdet"/,
    );
    await expect(checkedModule('logdet', Promise.resolve({}))).rejects.toThrow(/must export `experiment`/);
  });
});
