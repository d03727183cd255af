import type { CommandContext } from '../main';
import { openModel, setupBackend } from '../common';
import { dimsOf } from '../../lib/farmer/config';
import { cardLineage, cardLines } from '../../lib/io/card-text';

export const usage = `farmer info <model> [--json]
  config, parameter count and card of a .safetensors model or a zoo name, with the card's lineage
  (trainer, device, world size, the model it continued) and recommended sampling settings`;

export async function run({ flags, json, out }: CommandContext): Promise<void> {
  const [arg] = flags.positionals;
  await setupBackend(flags);
  flags.finish();
  const { model, card, summary, source } = await openModel(arg);
  const c = model.config;
  if (json) {
    out(
      JSON.stringify({
        source,
        config: c,
        parameters: summary.parameters,
        tensors: summary.tensors,
        file_bytes: summary.fileBytes,
        dtypes: summary.dtypes,
        lineage: cardLineage(card),
        card,
      }),
    );
    return;
  }
  const d = dimsOf(c);
  const prior =
    c.prior.kind === 'farmer'
      ? `FARMER AR prior: ${c.prior.ar.layers} layers × width ${c.prior.ar.width}, d_I = ${c.prior.informative_dims}, d_R = ${d.redundant}, K = ${c.prior.mixtures_informative}/${c.prior.mixtures_redundant}, condition repeat ${c.prior.cond_repeat}${c.prior.final_permute ? ', final permute' : ''}`
      : 'Gaussian prior (TARFlow)';
  out(`${source}${c.student ? '  (distilled one-step student)' : ''}`);
  out(
    `  image ${c.image.height}×${c.image.width}×${c.image.channels}, patch ${c.patch_size} → ${d.tokens} tokens × ${d.tokenDim} dims, ${c.num_classes} classes`,
  );
  out(
    `  AF: ${c.af.blocks} blocks × ${c.af.layers_per_block} layers, width ${c.af.width}, head_dim ${c.af.head_dim}, mlp ×${c.af.mlp_ratio}${c.af.class_conditional ? ', class-conditional' : ''}${c.af.soft_clip > 0 ? `, soft clip ${c.af.soft_clip}` : ''}`,
  );
  out(`  ${prior}`);
  out(`  dequantization ${c.dequantization.kind}, label dropout ${c.label_dropout}`);
  out(
    `  ${summary.parameters.toLocaleString('en-US')} parameters in ${summary.tensors} tensors (${Object.entries(
      summary.dtypes,
    )
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}), ${(summary.fileBytes / 1e6).toFixed(2)} MB`,
  );
  for (const line of cardLines(card)) out(`  ${line}`);
}
