// The client and the worker host talking over a real MessageChannel (structured clone and
// transfer as between a page and its worker), with stub handlers.
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerClient, type WorkerPort } from '../../src/lib/runtime/client';
import { createHost, throwIfCancelled, type Handlers } from '../../src/lib/runtime/host';
import { RunError, type WorkerReport, type WorkerEvent } from '../../src/lib/runtime/protocol';

const report: WorkerReport = {
  environment: { crossOriginIsolated: false, wasmThreads: null },
  active: 'cpu',
  requested: 'cpu',
  attempts: [{ name: 'cpu', tried: true, ok: true, reason: 'ok' }],
};
const model = {
  name: 'm',
  parameters: 3,
  config: {} as never,
  card: {},
  hash: '00',
  backends: null,
};

/** Resolves when `release` is called; lets a test hold a handler mid-run. */
function gate() {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  return { opened, release };
}

const channels: MessageChannel[] = [];
afterEach(() => channels.splice(0).forEach((c) => (c.port1.close(), c.port2.close())));

function connect(overrides: Partial<Handlers> = {}) {
  const channel = new MessageChannel();
  channels.push(channel);
  const handlers: Handlers = {
    init: ({ backend }, ctx) => {
      ctx.emit({ type: 'ready', report: { ...report, requested: backend } });
      return { ...report, requested: backend };
    },
    listModels: () => ({ url: 'http://x/models/index.json', models: [] }),
    loadModel: () => model,
    runExperiment: () => ({ params: {}, result: null, elapsedMs: 0 }),
    ...overrides,
  };
  const host = createHost((e, transfer) => channel.port2.postMessage(e, transfer ?? []), handlers);
  channel.port2.addEventListener('message', (e) => void host.receive((e as MessageEvent).data));
  channel.port2.start();
  channel.port1.start();
  return { client: new WorkerClient(channel.port1 as unknown as WorkerPort), host, channel };
}

describe('worker client and host', () => {
  it('resolves each request with its own result and emits ready on init', async () => {
    const { client } = connect();
    const events: WorkerEvent[] = [];
    client.on((e) => events.push(e));
    const [r, list] = await Promise.all([client.init('cpu'), client.listModels()]);
    expect(r.active).toBe('cpu');
    expect(list.models).toEqual([]);
    expect(events.map((e) => e.type).sort()).toEqual(['ready', 'result', 'result']);
    expect(client.pending).toBe(0);
  });

  it('delivers progress to the run that asked, and typed events to subscribers of one type', async () => {
    const { client } = connect({
      loadModel: (_req, ctx) => {
        ctx.progress(1, 2, 'half');
        ctx.progress(2, 2);
        return model;
      },
    });
    const seen: [number, number, string?][] = [];
    const runIds: number[] = [];
    const off = client.on('progress', (e) => runIds.push(e.runId));
    const run = client.start(
      'loadModel',
      { name: 'm' },
      { onProgress: (d, t, l) => seen.push(l === undefined ? [d, t] : [d, t, l]) },
    );
    await run.result;
    expect(seen).toEqual([
      [1, 2, 'half'],
      [2, 2],
    ]);
    expect(runIds).toEqual([run.runId, run.runId]);
    off();
  });

  it('rejects with the code the handler threw', async () => {
    const { client } = connect({
      listModels: () => {
        throw new RunError('malformed', 'index.json is not valid JSON');
      },
    });
    await expect(client.listModels()).rejects.toMatchObject({
      name: 'RunError',
      code: 'malformed',
      message: 'index.json is not valid JSON',
    });
  });

  it('cancels a running request: its promise rejects with code cancelled', async () => {
    const g = gate();
    const { client, host } = connect({
      loadModel: async (_req, { signal }) => {
        await g.opened;
        throwIfCancelled(signal);
        return model;
      },
    });
    const run = client.start('loadModel', { name: 'm' });
    await new Promise((r) => setTimeout(r, 10));
    expect(host.running).toBe(1);
    expect(await client.cancel(run.runId)).toBe(true);
    g.release();
    await expect(run.result).rejects.toMatchObject({ code: 'cancelled' });
    expect(await client.cancel(run.runId)).toBe(false);
  });

  it('reports a cancelled run as cancelled even when its handler ignores the signal', async () => {
    const g = gate();
    const { client } = connect({ loadModel: async () => (await g.opened, model) });
    const controller = new AbortController();
    const run = client.start('loadModel', { name: 'm' }, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await new Promise((r) => setTimeout(r, 10));
    g.release();
    await expect(run.result).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('moves checkpoint bytes to the worker instead of copying them', async () => {
    let received = 0;
    const { client } = connect({
      loadModel: (req) => ((received = 'bytes' in req ? req.bytes.byteLength : -1), model),
    });
    const bytes = new ArrayBuffer(1024);
    await client.loadModel({ bytes });
    expect(received).toBe(1024);
    expect(bytes.byteLength).toBe(0); // detached by the transfer
  });

  it('answers a malformed message with a bad-request error for its runId', async () => {
    const { client, channel } = connect();
    const errors: WorkerEvent[] = [];
    client.on('error', (e) => errors.push(e));
    channel.port1.postMessage({ type: 'init', runId: 99, backend: 'cuda' });
    await new Promise((r) => setTimeout(r, 20));
    expect(errors).toEqual([
      { type: 'error', runId: 99, code: 'bad-request', message: 'invalid request: unknown backend "cuda"' },
    ]);
  });

  it('fails every pending run when the worker crashes, and refuses runs after close', async () => {
    const listeners: Record<string, (e: Event) => void> = {};
    const port: WorkerPort = { postMessage: () => {}, addEventListener: (type, l) => (listeners[type] = l) };
    const client = new WorkerClient(port);
    const events: WorkerEvent[] = [];
    client.on((e) => events.push(e));
    const a = client.init('auto');
    const b = client.listModels();
    listeners.error(Object.assign(new Event('error'), { message: 'SyntaxError in worker.ts' }));
    await expect(a).rejects.toMatchObject({ code: 'internal', message: 'the worker failed: SyntaxError in worker.ts' });
    await expect(b).rejects.toMatchObject({ code: 'internal' });
    expect(events).toEqual([
      { type: 'error', runId: null, code: 'internal', message: 'the worker failed: SyntaxError in worker.ts' },
    ]);
    client.close();
    await expect(client.listModels()).rejects.toMatchObject({ message: 'the worker is closed' });
  });
});
