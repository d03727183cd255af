// A model whose AF is made class-conditional (h gets + class_embed[y]) with every
// af.blocks.{k}.class_embed at zero, so it starts as the same function and fine-tuning learns how
// the label enters the flow.
import type { CheckpointData } from '../../lib/io/checkpoint';
import type { FarmerConfig } from '../../lib/farmer/config';

export function classConditionalAf({ config, weights }: Pick<CheckpointData, 'config' | 'weights'>): {
  config: FarmerConfig;
  values: Map<string, Float32Array>;
} {
  if (config.af.class_conditional) throw new Error('its AF is class-conditional already');
  if (config.num_classes < 1) throw new Error('an unconditional model (num_classes = 0) has no labels to condition on');
  const values = new Map([...weights].map(([name, w]) => [name, w.values]));
  for (let k = 0; k < config.af.blocks; k++)
    values.set(`af.blocks.${k}.class_embed`, new Float32Array(config.num_classes * config.af.width));
  return { config: { ...config, af: { ...config.af, class_conditional: true } }, values };
}
