// The resumable training state as one safetensors file: weights, AdamW moments, EMA, step count,
// options. Browser-safe (bytes in, bytes out).
import * as tf from '@tensorflow/tfjs';
import { parseConfig, type FarmerConfig } from '../farmer/config';
import { parseSafetensors, readFloat32, serializeSafetensors, type TensorToWrite } from '../io/safetensors';
import { AdamW } from './adamw';
import type { TrainOptions, TrainState } from './loop';

const FORMAT = 'farmer-train-state';

export class TrainStateError extends Error {
  override name = 'TrainStateError';
}

export async function encodeTrainState(
  config: FarmerConfig,
  options: TrainOptions,
  s: TrainState,
  extra: Record<string, unknown> = {},
): Promise<Uint8Array> {
  const tensors: [string, TensorToWrite][] = [];
  const add = async (prefix: string, map: Map<string, tf.Tensor>) => {
    for (const [name, t] of map)
      tensors.push([`${prefix}/${name}`, { dtype: 'F32', shape: t.shape, data: (await t.data()) as Float32Array }]);
  };
  await add('param', s.vars);
  const moments = s.optimizer.momentsByName(); // flat moments are split only here
  await add('adam_m', moments.m);
  await add('adam_v', moments.v);
  if (s.ema) await add('ema', s.ema);
  return serializeSafetensors(tensors, {
    format: FORMAT,
    version: '1',
    config: JSON.stringify(config),
    options: JSON.stringify(options),
    step: String(s.step),
    adam_step: String(s.optimizer.state.step),
    time_s: String(s.timeS),
    skipped: String(s.skipped),
    extra: JSON.stringify(extra),
  });
}

export interface DecodedTrainState {
  config: FarmerConfig;
  options: TrainOptions;
  state: TrainState;
  extra: Record<string, unknown>;
}

export function decodeTrainState(bytes: Uint8Array, source = 'training state'): DecodedTrainState {
  let file;
  try {
    file = parseSafetensors(bytes);
  } catch (e) {
    throw new TrainStateError(`${source}: ${(e as Error).message}`);
  }
  const md = file.metadata;
  if (md.format !== FORMAT)
    throw new TrainStateError(`${source}: not a training state file (format ${JSON.stringify(md.format)})`);
  const config = parseConfig(JSON.parse(md.config));
  const options = JSON.parse(md.options) as TrainOptions;
  const groups = new Map<string, Map<string, tf.Tensor>>([
    ['param', new Map()],
    ['adam_m', new Map()],
    ['adam_v', new Map()],
    ['ema', new Map()],
  ]);
  for (const info of file.tensors) {
    const slash = info.name.indexOf('/');
    const group = groups.get(info.name.slice(0, slash));
    if (!group) throw new TrainStateError(`${source}: unexpected tensor ${info.name}`);
    group.set(info.name.slice(slash + 1), tf.tensor(readFloat32(file, info), info.shape));
  }
  const vars = new Map<string, tf.Variable>();
  for (const [n, t] of groups.get('param')!) {
    vars.set(n, tf.variable(t, true));
    t.dispose();
  }
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, weightDecay: options.weightDecay });
  optimizer.state = { step: Number(md.adam_step), m: groups.get('adam_m')!, v: groups.get('adam_v')! };
  const ema = groups.get('ema')!;
  return {
    config,
    options,
    extra: JSON.parse(md.extra ?? '{}'),
    state: {
      step: Number(md.step),
      timeS: Number(md.time_s),
      skipped: Number(md.skipped),
      vars,
      optimizer,
      ema: ema.size ? ema : null,
    },
  };
}
