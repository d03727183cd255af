// Training: 20 steps of the twin on CPU (`python3 -m farmer_torch.train`), then the file opens in
// the engine (`farmer info`, `farmer forward`) and in the app (the file picker of the home page,
// in Chromium), and its BPD on 256 test images, the same dequantized inputs given to both through
// --inputs, equals the twin's within 1e-4 per image.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeNpy } from '../../src/lib/io/npy';
import { parseConfig } from '../../src/lib/farmer/config';
import { paramShapes } from '../../src/lib/farmer/params';
import { loadDataset } from '../../src/node/datasets';
import { dequantizeUniform } from '../../src/lib/data/dequantize';
import { Rng } from '../../src/lib/util/random';
import { tempDir } from '../helpers/files';
import { runFarmer } from '../helpers/cli';
import { hasChromium, startApp, type App } from '../e2e/harness';
import { describeTwin, excess, twin, twinMany, type Run } from './twin';

const config = {
  image: { height: 28, width: 28, channels: 1 },
  patch_size: 4,
  num_classes: 10,
  af: { blocks: 2, layers_per_block: 1, width: 32, head_dim: 16, mlp_ratio: 2, class_conditional: false, soft_clip: 0 },
  prior: {
    kind: 'farmer',
    informative_dims: 4,
    cond_repeat: 2,
    final_permute: true,
    mixtures_informative: 4,
    mixtures_redundant: 4,
    ar: { layers: 1, width: 32, head_dim: 16, mlp_ratio: 2 },
  },
  dequantization: { kind: 'uniform' },
  label_dropout: 0.1,
};
const N_TEST = 256;

let dir: string, model: string;
let trained: Run, info: Run, engineForward: Run, twinForward: Run;

type Terms = { bpd: number; log_px: number };

describeTwin('20 steps of the twin open in the engine and the app', () => {
  beforeAll(async () => {
    dir = tempDir('farmer-twin-train-');
    model = join(dir, 'twin-trained.safetensors');
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    trained = await twin('train', [
      join(dir, 'config.json'),
      '--dataset',
      'mnist',
      '--out',
      model,
      '--steps',
      '20',
      '--batch',
      '16',
      '--lr',
      '3e-3',
      '--warmup',
      '5',
      '--seed',
      '3',
      '--log-every',
      '20',
      '--device',
      'cpu',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const test = loadDataset('mnist', 'test');
    const D = 28 * 28;
    writeFileSync(
      join(dir, 'x.npy'),
      writeNpy(dequantizeUniform(test.images.subarray(0, N_TEST * D), new Rng(0)), [N_TEST, 28, 28, 1]),
    );
    writeFileSync(join(dir, 'y.npy'), writeNpy(Int32Array.from(test.labels.subarray(0, N_TEST)), [N_TEST]));
    const args = [model, '--inputs', join(dir, 'x.npy'), '--labels', join(dir, 'y.npy'), '--json'];
    [info, engineForward, [twinForward]] = await Promise.all([
      runFarmer(['info', model, '--json']),
      runFarmer(['forward', ...args]),
      twinMany([['forward', ...args]]),
    ]);
  });

  it('trains 20 steps on CPU and writes the log and the card', () => {
    expect(JSON.parse(trained.stdout)).toMatchObject({ steps: 20, of: 20, skipped: 0 });
    const log = readFileSync(`${model}.log.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; bpd: number });
    expect(log.map((l) => l.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(log.every((l) => Number.isFinite(l.bpd))).toBe(true);
  });

  it('opens in the engine: farmer info shows its config, parameter count and lineage', () => {
    expect(info.code, info.stderr).toBe(0);
    const r = JSON.parse(info.stdout) as { config: unknown; parameters: number; card: Record<string, any> };
    expect(r.config).toEqual(parseConfig(config));
    const expected = [...paramShapes(parseConfig(config)).values()].reduce(
      (s, shape) => s + shape.reduce((a, b) => a * b, 1),
      0,
    );
    expect(r.parameters).toBe(expected);
    expect(trained.stderr).toContain(`training ${expected.toLocaleString('en-US')} parameters`);
    expect(r.card).toMatchObject({ dataset: 'mnist', steps: 20, seed: 3 });
    expect(r.card.train).toMatchObject({ trainer: 'farmer_torch', device: 'cpu', world_size: 1, bf16: false });
  });

  it("its BPD on 256 test images equals the twin's within 1e-4 (farmer forward --inputs)", () => {
    expect(engineForward.code, engineForward.stderr).toBe(0);
    expect(twinForward.code, twinForward.stderr).toBe(0);
    const e = (JSON.parse(engineForward.stdout) as { images: Terms[] }).images;
    const t = (JSON.parse(twinForward.stdout) as { images: Terms[] }).images;
    expect(e).toHaveLength(N_TEST);
    expect(
      excess(
        t.map((r) => r.bpd),
        e.map((r) => r.bpd),
        0,
        1e-4,
      ),
    ).toBeLessThanOrEqual(0);
    const mean = (rows: Terms[]) => rows.reduce((s, r) => s + r.bpd, 0) / rows.length;
    expect(Math.abs(mean(t) - mean(e))).toBeLessThanOrEqual(1e-4);
    expect(mean(e)).toBeLessThan(9); // trained away from its initial ~10 bits per dim, and still finite
  });

  describe_app();
});

function describe_app(): void {
  let app: App | undefined;
  afterAll(async () => app?.close());

  it.skipIf(!hasChromium())(
    'opens in the app: the file picker loads it and the model panel shows its size and card',
    async () => {
      app = await startApp();
      const { page, errors } = await app.open('/?backend=cpu');
      await page.getByTestId('active-backend').and(page.locator('[data-state=ready]')).waitFor({ timeout: 60_000 });
      const picker = page.getByLabel('Or open a .safetensors checkpoint file');
      await picker.setInputFiles({
        name: 'twin-trained.safetensors',
        mimeType: 'application/octet-stream',
        buffer: readFileSync(model),
      });
      await expect
        .poll(() => page.getByTestId('loaded-model').innerText(), { timeout: 60_000 })
        .toBe('twin-trained.safetensors');
      const parameters = (JSON.parse(info.stdout) as { parameters: number }).parameters;
      const panel = page.getByTestId('model-panel');
      expect(await panel.innerText()).toContain(new Intl.NumberFormat('en').format(parameters));
      expect(await panel.innerText()).toMatch(/FARMER AR, 1 layer; dI = 4; K = 4 \/ 4/);
      await page.getByTestId('model-card').locator('summary').click();
      expect(await page.getByTestId('model-card').innerText()).toMatch(/card: dataset mnist, 20 steps .*seed 3/);
      expect(errors).toEqual([]);
      await page.close();
    },
  );
}
