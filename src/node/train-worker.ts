// Inside one training worker thread (train-workers.ts): a backend, a copy of the model's
// variables, and one shard's gradients per request.
import { parentPort } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import type { FarmerConfig } from '../lib/farmer/config';
import { initParams } from '../lib/farmer/params';
import type { BackendName } from '../lib/tf/backend';
import { assignFlatWeights, shardGradients, type ShardGradients } from '../lib/train/data-parallel';
import { toVariables } from '../lib/train/step';
import { useBackend } from './backend';

export type HelperRequest =
  | { kind: 'init'; config: FarmerConfig; backend: BackendName }
  | { kind: 'step'; weights: Float32Array; x: Float32Array; n: number; labels: Int32Array | null };

export type HelperReply =
  { kind: 'ready' } | { kind: 'gradients'; result: ShardGradients } | { kind: 'error'; message: string };

let model: { config: FarmerConfig; vars: Map<string, tf.Variable> } | null = null;

async function handle(m: HelperRequest): Promise<HelperReply> {
  if (m.kind === 'init') {
    await useBackend(m.backend);
    model = { config: m.config, vars: toVariables(initParams(m.config, { seed: 0 })) };
    return { kind: 'ready' };
  }
  if (!model) throw new Error('step before init');
  assignFlatWeights(model.vars, m.weights);
  const result = await shardGradients(model.config, model.vars, { n: m.n, x: m.x, labels: m.labels });
  return { kind: 'gradients', result };
}

const port = parentPort;
if (port)
  port.on('message', (m: HelperRequest) => {
    handle(m).then(
      (reply) => port.postMessage(reply, reply.kind === 'gradients' ? [reply.result.grads.buffer as ArrayBuffer] : []),
      (e: unknown) => port.postMessage({ kind: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
  });
