// The config is checked before anything is allocated: unknown keys are refused by name, every
// size is bounded (with the bound in the message), and the parameter count is known by arithmetic.
import { describe, expect, it } from 'vitest';
import { LIMITS, parameterCount, parseConfig, referenceConfig } from '../../src/lib/farmer/config';
import { paramShapes } from '../../src/lib/farmer/params';
import { tinyConfig } from '../helpers/tiny';

const raw = () => JSON.parse(JSON.stringify(referenceConfig));

describe('parseConfig', () => {
  it('counts the parameters as paramShapes lists them, for every kind of config', () => {
    const configs = [
      referenceConfig,
      tinyConfig(),
      tinyConfig({ prior: 'gaussian', numClasses: 0 }),
      tinyConfig({ classConditionalAf: true, blocks: 3, channels: 3, informative: 5, mixtures: [4, 1] }),
      parseConfig({
        ...raw(),
        af: { ...raw().af, mlp_ratio: 1.5 },
        prior: { ...raw().prior, ar: { layers: 0, width: 64, head_dim: 16, mlp_ratio: 2 } },
      }),
    ];
    for (const cfg of configs) {
      let slow = 0;
      for (const shape of paramShapes(cfg).values()) slow += shape.reduce((a, b) => a * b, 1);
      expect(parameterCount(cfg)).toBe(slow);
    }
  });

  it('refuses unknown keys at every level, naming the key', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...raw(), blocks: 4 }, 'config: unknown key config.blocks'],
      [{ ...raw(), image: { ...raw().image, depth: 3 } }, 'config: unknown key image.depth'],
      [
        { ...raw(), af: { ...raw().af, block: 4 } },
        'config: unknown key af.block (known: blocks, layers_per_block, width, head_dim, mlp_ratio, class_conditional, soft_clip)',
      ],
      [{ ...raw(), prior: { ...raw().prior, mixtures: 16 } }, 'config: unknown key prior.mixtures'],
      [
        { ...raw(), prior: { ...raw().prior, ar: { ...raw().prior.ar, heads: 4 } } },
        'config: unknown key prior.ar.heads',
      ],
      [{ ...raw(), prior: { kind: 'gaussian', informative_dims: 4 } }, 'config: unknown key prior.informative_dims'],
      [
        { ...raw(), dequantization: { kind: 'uniform', sigma_min: 0.1 } },
        'config: unknown key dequantization.sigma_min',
      ],
    ];
    for (const [c, message] of cases) expect(() => parseConfig(c)).toThrow(message);
  });

  it('refuses absurd sizes at once, saying the bound', () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { ...raw(), af: { ...raw().af, blocks: 1e9 } },
        `config: af.blocks must be an integer in [1, ${LIMITS.depth}], got 1000000000`,
      ],
      [
        { ...raw(), af: { ...raw().af, layers_per_block: 1e6 } },
        `af.layers_per_block must be an integer in [0, ${LIMITS.depth}]`,
      ],
      [
        { ...raw(), af: { ...raw().af, width: 1e7, head_dim: 1 } },
        `af.width must be an integer in [1, ${LIMITS.width}]`,
      ],
      [{ ...raw(), af: { ...raw().af, mlp_ratio: 1e9 } }, `af.mlp_ratio must be a number in (0, ${LIMITS.mlp_ratio}]`],
      [
        { ...raw(), image: { height: 1e6, width: 28, channels: 1 } },
        `image.height must be an integer in [1, ${LIMITS.side}]`,
      ],
      [
        { ...raw(), image: { height: 28, width: 28, channels: 1000 } },
        `image.channels must be an integer in [1, ${LIMITS.channels}]`,
      ],
      [
        { ...raw(), image: { height: 4096, width: 4096, channels: 1 } },
        `make 1048576 tokens; at most ${LIMITS.tokens}`,
      ],
      [{ ...raw(), num_classes: 1e9 }, `num_classes must be an integer in [0, ${LIMITS.num_classes}]`],
      [
        { ...raw(), prior: { ...raw().prior, mixtures_redundant: 1e9 } },
        `prior.mixtures_redundant must be an integer in [1, ${LIMITS.mixtures}]`,
      ],
      [
        { ...raw(), prior: { ...raw().prior, cond_repeat: 1e9 } },
        `prior.cond_repeat must be an integer in [1, ${LIMITS.cond_repeat}]`,
      ],
      [
        { ...raw(), af: { ...raw().af, blocks: 64, layers_per_block: 64, width: 8192, head_dim: 64 } },
        'weights; at most 536,870,912 (2 GiB of float32)',
      ],
    ];
    for (const [c, message] of cases) expect(() => parseConfig(c)).toThrow(message);
  });
});
