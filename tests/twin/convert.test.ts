// TARFlow conversion through the engine: a state dict built with ml-tarflow's documented names and
// shapes (python/tests/tarflow_fixture.py, class-conditional, 3 channels, 3 blocks) converts with
// `farmer_torch.convert_tarflow`, and `farmer forward` of the converted file gives the logdet (total
// and per block) and the latent of an independent float64 numpy forward of that layout. The
// refusals (malformed, mismatched, unsupported) are tested in python/tests/test_convert_tarflow.py.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { readNpy } from '../../src/lib/io/npy';
import { tempDir } from '../helpers/files';
import { runFarmer } from '../helpers/cli';
import { describeTwin, excess, runPython, twin, type Run } from './twin';

interface Reference {
  channels: number;
  patch_size: number;
  image_size: number;
  head_dim: number;
  num_classes: number;
  logdet_total: number[];
  logdet_per_block: number[][];
}

let dir: string, ref: Reference, converted: Run, forward: Run, info: Run;

describeTwin('a converted ml-tarflow checkpoint in the engine', () => {
  beforeAll(async () => {
    dir = tempDir('farmer-twin-tarflow-');
    const fixture = await runPython(['python/tests/tarflow_fixture.py', dir]);
    expect(fixture.code, fixture.stderr).toBe(0);
    ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
    const out = join(dir, 'tarflow.safetensors');
    converted = await twin('convert_tarflow', [
      join(dir, 'model.pth'),
      '--out',
      out,
      '--image-size',
      String(ref.image_size),
      '--channels',
      String(ref.channels),
      '--patch-size',
      String(ref.patch_size),
      '--head-dim',
      String(ref.head_dim),
      '--num-classes',
      String(ref.num_classes),
      '--dataset',
      'random',
    ]);
    expect(converted.code, converted.stderr).toBe(0);
    [forward, info] = await Promise.all([
      runFarmer([
        'forward',
        out,
        '--inputs',
        join(dir, 'inputs.npy'),
        '--labels',
        join(dir, 'labels.npy'),
        '--latents',
        join(dir, 'z.npy'),
        '--json',
      ]),
      runFarmer(['info', out, '--json']),
    ]);
  });

  it('opens as a TARFlow (Gaussian prior, class-conditional AF) with its source on the card', () => {
    expect(info.code, info.stderr).toBe(0);
    const { config, card } = JSON.parse(info.stdout) as { config: Record<string, any>; card: Record<string, any> };
    expect(config).toMatchObject({
      image: { height: 8, width: 8, channels: 3 },
      patch_size: 2,
      num_classes: 4,
      prior: { kind: 'gaussian' },
    });
    expect(config.af).toMatchObject({
      blocks: 3,
      layers_per_block: 2,
      width: 32,
      head_dim: 8,
      mlp_ratio: 3,
      class_conditional: true,
      soft_clip: 0,
    });
    expect(card.source).toMatchObject({
      kind: 'apple/ml-tarflow Model state dict',
      file: 'model.pth',
      converter: 'farmer_torch.convert_tarflow',
    });
    expect(card.source.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('farmer forward gives the logdet and latent of the independent numpy forward (1e-5 relative, 1e-4 absolute)', () => {
    expect(forward.code, forward.stderr).toBe(0);
    const images = (JSON.parse(forward.stdout) as { images: { logdet_total: number; logdet_per_block: number[] }[] })
      .images;
    expect(
      excess(
        images.map((r) => r.logdet_total),
        ref.logdet_total,
      ),
    ).toBeLessThanOrEqual(0);
    expect(
      excess(
        images.flatMap((r) => r.logdet_per_block),
        ref.logdet_per_block.flat(),
      ),
    ).toBeLessThanOrEqual(0);
    expect(Math.max(...ref.logdet_total.map(Math.abs))).toBeGreaterThan(1);
    const z = readNpy(readFileSync(join(dir, 'z.npy'))).data as Float32Array;
    const zRef = readNpy(readFileSync(join(dir, 'reference_latents.npy'))).data as Float32Array;
    expect(excess(z, zRef)).toBeLessThanOrEqual(0);
  });
});
