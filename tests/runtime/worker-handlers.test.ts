// The worker's handlers with a fake fetch, backend and checkpoint loader: how each way the zoo
// index can be missing or malformed is reported, and the lifetime of loaded models.
import { describe, expect, it } from 'vitest';
import type { RunContext } from '../../src/lib/runtime/host';
import { RunError, type LoadedModel, type WorkerEvent } from '../../src/lib/runtime/protocol';
import { memoryStore } from '../../src/lib/runtime/backend-choice';
import { createHandlers, type WorkerDeps } from '../../src/lib/runtime/worker-handlers';

const base = 'http://app.test/';
const entry = (name: string) => ({
  name,
  title: `T ${name}`,
  dataset: 'mnist',
  description: 'd',
  file: `${name}.safetensors`,
});

/** A fetch that serves a fixed set of URLs and records what was asked. */
function fakeFetch(
  files: Record<string, { body: string | ArrayBuffer; status?: number; type?: string }>,
  asked: string[] = [],
) {
  return (async (input: RequestInfo | URL) => {
    const url = String(input);
    asked.push(url);
    const f = files[url];
    if (!f) return new Response('not found', { status: 404 });
    return new Response(f.body, { status: f.status ?? 200, headers: { 'content-type': f.type ?? 'application/json' } });
  }) as typeof fetch;
}

function setup(files: Parameters<typeof fakeFetch>[0], overrides: Partial<WorkerDeps> = {}) {
  const disposed: string[] = [];
  const asked: string[] = [];
  const deps: WorkerDeps = {
    selectBackend: async (preferred) => ({
      active: 'cpu',
      requested: preferred,
      attempts: [{ name: 'cpu', tried: true, ok: true, reason: 'ok' }],
    }),
    useBackend: async () => true,
    probe: async () => ({ forwardMs: 1, sampleStepMs: 1 }),
    machine: async () => 'test machine',
    timings: memoryStore(),
    environment: async () => ({ crossOriginIsolated: true, wasmThreads: 4 }),
    fetch: fakeFetch(files, asked),
    base,
    readZooIndex: (raw) => {
      const models = (raw as { models?: unknown }).models;
      if (!Array.isArray(models)) throw new Error('expected { "models": [...] }');
      return models.map((m: { name: string }) => entry(m.name));
    },
    loadCheckpoint: async (bytes, name) => ({
      info: { name, parameters: bytes.byteLength, config: {} as never, card: {} } satisfies Omit<
        LoadedModel,
        'hash' | 'backends'
      >,
      model: {} as never,
      dispose: () => disposed.push(name),
    }),
    loadExperiment: async (id) => Promise.reject(new Error(`no ${id}`)),
    loadTestSet: async () => Promise.reject(new Error('no test set')),
    loadFeatureNet: async () => Promise.reject(new Error('no feature net')),
    ...overrides,
  };
  return { handlers: createHandlers(deps), disposed, asked };
}

function context(controller = new AbortController()) {
  const events: WorkerEvent[] = [];
  const ctx: RunContext = {
    runId: 1,
    signal: controller.signal,
    progress: (done, total, label) => events.push({ type: 'progress', runId: 1, done, total, label }),
    partial: (value) => events.push({ type: 'partial', runId: 1, value }),
    emit: (e) => events.push(e),
    transfer: () => {},
  };
  return { ctx, events, controller };
}

async function codeOf(p: Promise<unknown> | unknown): Promise<[string, string]> {
  try {
    await p;
  } catch (e) {
    return [(e as RunError).code, (e as Error).message];
  }
  throw new Error('did not reject');
}

const index = `${base}models/index.json`;

describe('listModels', () => {
  it('lists the index at models/index.json under the app root', async () => {
    const { handlers } = setup({ [index]: { body: '{"models":[{"name":"a"},{"name":"b"}]}' } });
    const list = await handlers.listModels({ type: 'listModels', runId: 1 }, context().ctx);
    expect(list.url).toBe(index);
    expect(list.models.map((m) => m.name)).toEqual(['a', 'b']);
  });

  it('calls a 404, a network failure and an HTML fallback page "not-found"', async () => {
    expect(await codeOf(setup({}).handlers.listModels({ type: 'listModels', runId: 1 }, context().ctx))).toEqual([
      'not-found',
      `no model index at ${index} (HTTP 404)`,
    ]);
    const html = setup({ [index]: { body: '<!doctype html>', type: 'text/html' } });
    expect((await codeOf(html.handlers.listModels({ type: 'listModels', runId: 1 }, context().ctx)))[0]).toBe(
      'not-found',
    );
    const offline = setup(
      {},
      {
        fetch: (async () => {
          throw new TypeError('Failed to fetch');
        }) as typeof fetch,
      },
    );
    expect(await codeOf(offline.handlers.listModels({ type: 'listModels', runId: 1 }, context().ctx))).toEqual([
      'not-found',
      `could not fetch model index at ${index}: Failed to fetch`,
    ]);
  });

  it('calls bad JSON and a schema violation "malformed", with the reason', async () => {
    const bad = setup({ [index]: { body: '{"models": [' } });
    const [code, message] = await codeOf(bad.handlers.listModels({ type: 'listModels', runId: 1 }, context().ctx));
    expect(code).toBe('malformed');
    expect(message).toMatch(/is not valid JSON/);
    const wrong = setup({ [index]: { body: '{"items": []}' } });
    expect(await codeOf(wrong.handlers.listModels({ type: 'listModels', runId: 1 }, context().ctx))).toEqual([
      'malformed',
      `${index} is malformed: expected { "models": [...] }`,
    ]);
  });
});

describe('loadModel', () => {
  const files = {
    [index]: { body: '{"models":[{"name":"a"},{"name":"b"}]}' },
    [`${base}models/a.safetensors`]: { body: new ArrayBuffer(10) },
    [`${base}models/b.safetensors`]: { body: new ArrayBuffer(20) },
  };

  it('fetches a zoo model next to the index and keeps one model, disposing the one it replaces', async () => {
    const { handlers, disposed, asked } = setup(files);
    const { ctx, events } = context();
    expect(await handlers.loadModel({ type: 'loadModel', runId: 1, name: 'a' }, ctx)).toMatchObject({
      name: 'a',
      parameters: 10,
    });
    expect(asked).toContain(`${base}models/a.safetensors`);
    expect(events.at(-1)).toMatchObject({ type: 'progress', done: 1, total: 1 });
    await handlers.loadModel({ type: 'loadModel', runId: 2, name: 'b' }, ctx);
    expect(disposed).toEqual(['a']);
    await handlers.loadModel({ type: 'loadModel', runId: 3, bytes: new ArrayBuffer(5), name: 'file.safetensors' }, ctx);
    expect(disposed).toEqual(['a', 'b']);
  });

  it('refuses an unknown name and keeps the loaded model when a load fails', async () => {
    const { handlers, disposed } = setup(files, {
      loadCheckpoint: async (bytes, name) => {
        if (name === 'b') throw new RunError('malformed', 'missing tensor af.blocks.0.proj_in.weight');
        return {
          info: { name, parameters: bytes.byteLength, config: {} as never, card: {} },
          model: {} as never,
          dispose: () => disposed.push(name),
        };
      },
    });
    await handlers.loadModel({ type: 'loadModel', runId: 1, name: 'a' }, context().ctx);
    expect(await codeOf(handlers.loadModel({ type: 'loadModel', runId: 2, name: 'zzz' }, context().ctx))).toEqual([
      'not-found',
      `no model named "zzz" in ${index}`,
    ]);
    expect((await codeOf(handlers.loadModel({ type: 'loadModel', runId: 3, name: 'b' }, context().ctx)))[0]).toBe(
      'malformed',
    );
    expect(disposed).toEqual([]);
  });

  it('a load cancelled while parsing disposes what it made and keeps the previous model', async () => {
    let cancelNow = () => {};
    const { handlers, disposed } = setup(files, {
      loadCheckpoint: async (bytes, name) => {
        cancelNow();
        return {
          info: { name, parameters: bytes.byteLength, config: {} as never, card: {} },
          model: {} as never,
          dispose: () => disposed.push(name),
        };
      },
    });
    await handlers.loadModel({ type: 'loadModel', runId: 1, name: 'a' }, context().ctx);
    const { ctx, controller } = context();
    cancelNow = () => controller.abort();
    expect((await codeOf(handlers.loadModel({ type: 'loadModel', runId: 2, name: 'b' }, ctx)))[0]).toBe('cancelled');
    expect(disposed).toEqual(['b']);
  });
});

describe('init', () => {
  it('returns the backend report with the environment (isolation, wasm threads) and announces it with a ready event', async () => {
    const { handlers } = setup({});
    const { ctx, events } = context();
    const report = await handlers.init({ type: 'init', runId: 1, backend: 'cpu' }, ctx);
    expect(report).toMatchObject({
      active: 'cpu',
      requested: 'cpu',
      environment: { crossOriginIsolated: true, wasmThreads: 4 },
    });
    expect(events).toEqual([{ type: 'ready', report }]);
  });
});
