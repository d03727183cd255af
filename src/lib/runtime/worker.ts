// The module Web Worker that owns TensorFlow.js and the models. Everything it does is in
// worker-handlers.ts; this file wires the real backend selection, zoo index and checkpoint loader.
/// <reference lib="webworker" />
import { countParams, disposeParams } from '../farmer/params';
import { CheckpointError, loadCheckpoint } from '../io/checkpoint';
import { parseZooIndex } from '../io/zoo';
import { selectBackend } from '../tf/backend';
import { createHost } from './host';
import { RunError, type WorkerEvent } from './protocol';
import { createHandlers } from './worker-handlers';

const scope = self as unknown as DedicatedWorkerGlobalScope;

const handlers = createHandlers({
  selectBackend: (preferred) => selectBackend(preferred),
  fetch: (input, init) => fetch(input, init),
  base: new URL(import.meta.env.BASE_URL, scope.location.origin).href,
  readZooIndex: (raw) => parseZooIndex(raw).models.map(({ file, ...m }) => ({ summary: { name: m.name, title: m.title, dataset: m.dataset, description: m.description }, file })),
  async loadCheckpoint(bytes, name) {
    let loaded;
    try {
      loaded = loadCheckpoint(bytes, name);
    } catch (e) {
      if (e instanceof CheckpointError) throw new RunError('malformed', e.message);
      throw e;
    }
    const { config, card, params } = loaded;
    return { info: { name, parameters: countParams(params), config, card }, dispose: () => disposeParams(params) };
  },
});

const host = createHost((e: WorkerEvent, transfer: Transferable[] = []) => scope.postMessage(e, transfer), handlers);
scope.addEventListener('message', (e: MessageEvent) => void host.receive(e.data));
scope.addEventListener('unhandledrejection', (e: PromiseRejectionEvent) =>
  scope.postMessage({ type: 'error', runId: null, code: 'internal', message: String(e.reason?.message ?? e.reason) } satisfies WorkerEvent),
);
