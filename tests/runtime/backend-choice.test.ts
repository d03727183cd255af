// Choosing a backend by measurement: the faster backend per kind of work, timed once per
// (machine, model) and then read from the store; ?backend= still forces one.
import { describe, expect, it } from 'vitest';
import { chooseBackends, memoryStore, workKindOf } from '../../src/lib/runtime/backend-choice';
import { timingRows } from '../../src/lib/runtime/backends';
import { experimentIds } from '../../src/lib/experiments/catalog';
import type { RunContext } from '../../src/lib/runtime/host';
import type { BackendName, BackendReport } from '../../src/lib/runtime/protocol';
import { createHandlers, probeCandidates, type WorkerDeps } from '../../src/lib/runtime/worker-handlers';
import { defineParams, integer } from '../../src/lib/experiments/params';
import type { AnyExperiment } from '../../src/lib/experiments/types';

describe('chooseBackends', () => {
  it('takes the smallest time per kind, ignores backends that failed, and falls back when none measured', () => {
    const timings = {
      webgpu: { forwardMs: 0.5, sampleStepMs: 9 },
      wasm: { forwardMs: 4, sampleStepMs: 3 },
      cpu: { error: 'did not start' },
    };
    expect(chooseBackends(timings, 'cpu')).toEqual({ forward: 'webgpu', sample: 'wasm' });
    expect(chooseBackends({ webgl: { error: 'x' } }, 'wasm')).toEqual({ forward: 'wasm', sample: 'wasm' });
  });

  it('the panel lists each timed backend in trial order with what runs there', () => {
    const rows = timingRows({
      timings: {
        wasm: { forwardMs: 4, sampleStepMs: 3 },
        webgpu: { forwardMs: 0.5, sampleStepMs: 9 },
        webgl: { error: 'did not start' },
      },
      chosen: { forward: 'webgpu', sample: 'wasm' },
      source: 'measured',
      at: 0,
    });
    expect(rows.map((r) => [r.name, r.forwardMs, r.sampleStepMs, r.error, r.chosenFor])).toEqual([
      ['webgpu', 0.5, 9, null, ['forward']],
      ['webgl', null, null, 'did not start', []],
      ['wasm', 4, 3, null, ['sample']],
    ]);
  });

  it('likelihood is forward passes; every other notebook decodes sequentially', () => {
    expect(experimentIds.filter((id) => workKindOf(id) === 'forward')).toEqual(['likelihood']);
  });

  it('times each backend that did not fail at selection, cpu only when wasm is out', () => {
    const attempt = (name: BackendName, ok: boolean) => ({ name, tried: ok, ok, reason: '' });
    const report = (active: BackendName, attempts: ReturnType<typeof attempt>[]): BackendReport => ({
      active,
      requested: 'auto',
      attempts,
    });
    expect(probeCandidates(report('webgpu', [attempt('webgpu', true)]))).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(
      probeCandidates(report('wasm', [attempt('webgpu', false), attempt('webgl', false), attempt('wasm', true)])),
    ).toEqual(['wasm']);
    expect(
      probeCandidates(
        report('cpu', [
          attempt('webgpu', false),
          attempt('webgl', false),
          attempt('wasm', false),
          attempt('cpu', true),
        ]),
      ),
    ).toEqual(['cpu']);
  });
});

/** A worker whose backends are names: webgl never starts; each backend's probe gives fixed times; models record where they were made. */
function worker(store = memoryStore()) {
  const times: Record<string, { forwardMs: number; sampleStepMs: number }> = {
    webgpu: { forwardMs: 1, sampleStepMs: 5 },
    wasm: { forwardMs: 3, sampleStepMs: 2 },
  };
  let current: BackendName = 'webgpu';
  const log = {
    probes: [] as string[],
    switches: [] as string[],
    ranOn: [] as string[],
    made: [] as string[],
    disposed: [] as string[],
  };
  const experiment = (id: AnyExperiment['id']): AnyExperiment => ({
    id,
    title: 'fake',
    params: defineParams({ n: integer(1, 9, 1) }),
    needs: { featureNet: false, teacher: false },
    thumbnail: { figure: 'none', alt: '', params: {}, seed: 0 },
    cost: () => ({ units: 1, description: '' }),
    async run(model) {
      log.ranOn.push((model as unknown as { backend: string }).backend);
      return {};
    },
    toJSON: (r) => r,
    figures: () => [],
  });
  const deps: WorkerDeps = {
    selectBackend: async (preferred) => {
      current = preferred === 'auto' ? 'webgpu' : preferred;
      return {
        active: current,
        requested: preferred,
        attempts: [{ name: current, tried: true, ok: true, reason: 'ok' }],
      };
    },
    async useBackend(name) {
      log.switches.push(name);
      if (name === 'webgl') return false;
      current = name;
      return true;
    },
    async probe(model) {
      log.probes.push((model as unknown as { backend: string }).backend);
      return times[current];
    },
    machine: async () => 'a machine',
    timings: store,
    environment: async () => ({ crossOriginIsolated: false, wasmThreads: null }),
    fetch: (async () => new Response('', { status: 404 })) as typeof fetch,
    base: 'http://app.test/',
    readZooIndex: () => [],
    async loadCheckpoint(_bytes, name) {
      const backend = current;
      log.made.push(backend);
      return {
        info: { name, parameters: 1, config: {} as never, card: { dataset: 'mnist' } },
        model: { backend } as never,
        dispose: () => log.disposed.push(backend),
      };
    },
    loadExperiment: async (id) => experiment(id),
    loadTestSet: async () => ({
      n: 1,
      height: 2,
      width: 2,
      channels: 1,
      numClasses: 10,
      images: new Uint8Array(4),
      labels: new Uint8Array(1),
    }),
    loadFeatureNet: async () => Promise.reject(new Error('none')),
  };
  return { handlers: createHandlers(deps), log, store };
}

const ctx = (): RunContext => ({
  runId: 1,
  signal: new AbortController().signal,
  progress: () => {},
  partial: () => {},
  emit: () => {},
  transfer: () => {},
});
const bytes = () => new Uint8Array([1, 2, 3]).buffer;

describe('the worker chooses backends by measurement', () => {
  it('times the model on each backend that starts the first time, runs each kind of work on the faster one, and reads the timings from the store the next time', async () => {
    const w = worker();
    await w.handlers.init({ type: 'init', runId: 1, backend: 'auto' }, ctx());
    const loaded = await w.handlers.loadModel({ type: 'loadModel', runId: 1, bytes: bytes(), name: 'm' }, ctx());
    expect(w.log.probes).toEqual(['webgpu', 'wasm']);
    expect(loaded.backends).toMatchObject({
      source: 'measured',
      chosen: { forward: 'webgpu', sample: 'wasm' },
      timings: {
        webgpu: { forwardMs: 1, sampleStepMs: 5 },
        wasm: { forwardMs: 3, sampleStepMs: 2 },
        webgl: { error: 'did not start' },
      },
    });
    expect(w.store.size()).toBe(1);
    for (const id of ['likelihood', 'guidance', 'likelihood'] as const)
      await w.handlers.runExperiment({ type: 'runExperiment', runId: 2, experiment: id, params: {} }, ctx());
    expect(w.log.ranOn).toEqual(['webgpu', 'wasm', 'webgpu']);
    // weights were made once per backend that runs work, not again on every switch
    expect(w.log.made).toEqual(['webgpu', 'wasm']);

    const again = worker(w.store); // a later visit on the same machine
    await again.handlers.init({ type: 'init', runId: 1, backend: 'auto' }, ctx());
    const reloaded = await again.handlers.loadModel({ type: 'loadModel', runId: 1, bytes: bytes(), name: 'm' }, ctx());
    expect(again.log.probes).toEqual([]);
    expect(reloaded.backends).toMatchObject({ source: 'cached', chosen: { forward: 'webgpu', sample: 'wasm' } });
  });

  it('?backend= forces one backend: nothing is timed and every run stays there', async () => {
    const w = worker();
    await w.handlers.init({ type: 'init', runId: 1, backend: 'wasm' }, ctx());
    const loaded = await w.handlers.loadModel({ type: 'loadModel', runId: 1, bytes: bytes(), name: 'm' }, ctx());
    expect(loaded.backends).toBeNull();
    await w.handlers.runExperiment({ type: 'runExperiment', runId: 2, experiment: 'likelihood', params: {} }, ctx());
    expect(w.log.probes).toEqual([]);
    expect(w.log.switches).toEqual([]);
    expect(w.log.ranOn).toEqual(['wasm']);
  });
});
