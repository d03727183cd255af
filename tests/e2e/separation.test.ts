// The separation notebook in headless Chromium: a 28×28 checkpoint named in the link loads by
// itself, a person changes the controls, runs the cell and gets the Fig. 8 grid, the curves and
// the reading; the URL keeps the parameters. On WebAssembly and on WebGPU (SwiftShader).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/lib/farmer/config';
import { paramShapes } from '../../src/lib/farmer/params';
import { encodeCheckpoint } from '../../src/lib/io/checkpoint';
import { Rng } from '../../src/lib/util/random';
import {
  activeBackend,
  cellLocator,
  hasChromium,
  routeZooModel,
  setControl,
  startApp,
  tfjsOnMainThread,
  waitForCell,
  writeTestCheckpoint,
  type App,
} from './harness';

/** Random weights at MNIST's size (the worker's test split is the real MNIST file): 2 blocks, 16 tokens of 49·C dims, d_I = 9. */
function mnistSizedCheckpoint({ channels = 1, dataset = 'mnist' } = {}): Buffer {
  const config = parseConfig({
    image: { height: 28, width: 28, channels },
    patch_size: 7,
    num_classes: 0,
    af: {
      blocks: 2,
      layers_per_block: 1,
      width: 16,
      head_dim: 8,
      mlp_ratio: 2,
      class_conditional: false,
      soft_clip: 0,
    },
    prior: {
      kind: 'farmer',
      informative_dims: 9,
      cond_repeat: 1,
      final_permute: true,
      mixtures_informative: 2,
      mixtures_redundant: 2,
      ar: { layers: 1, width: 16, head_dim: 8, mlp_ratio: 2 },
    },
    dequantization: { kind: 'uniform' },
    label_dropout: 0,
  });
  const rng = new Rng(4);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of paramShapes(config))
    values.set(
      name,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.05 * rng.normal()),
    );
  return Buffer.from(encodeCheckpoint(config, values, { dataset, steps: 0, time_s: 0, seed: 4, metrics: {} }));
}

async function routeZoo(page: Page, bytes: Buffer): Promise<void> {
  const listing = {
    models: [
      {
        name: 'tiny28',
        file: 'tiny28.safetensors',
        title: 'Tiny 28×28',
        dataset: 'mnist',
        description: 'Random weights.',
      },
    ],
  };
  await page.context().route('**/models/index.json', (r) => r.fulfill({ json: listing }));
  await page
    .context()
    .route('**/models/tiny28.safetensors', (r) => r.fulfill({ body: bytes, contentType: 'application/octet-stream' }));
}

describe.skipIf(!hasChromium())('separation notebook in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs from the controls: grid of depth × α (partial beside full), curves, reading, parameters in the URL', async () => {
    const bytes = mnistSizedCheckpoint();
    const { page, errors } = await app.open('/?backend=wasm#/separation?model=tiny28&seed=5', {
      setup: (p) => routeZoo(p, bytes),
    });
    const cell = page.locator('[data-cell=separation]');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('tiny28');
    expect(await page.getByTestId('formula').innerText()).toContain('√(1 − α²)');

    // three levels, depth 1 only (both boxes start checked)
    await page.getByLabel('Noise levels α').fill('3');
    await page.getByRole('checkbox', { name: 'Z²' }).uncheck();
    await page.getByLabel('Test image number').fill('7');
    await page.getByLabel('Test image number').press('Tab');
    await expect
      .poll(() => page.evaluate(() => location.hash))
      .toMatch(/^#\/separation\?model=tiny28&seed=5&depths=1&image=7&images=2&levels=3$/);

    await page.getByRole('button', { name: 'Run Information separation in the AF' }).click();
    await waitForCell(page, 'separation', 'done', { timeout: 60_000 });

    const grid = cell.locator('[data-figure=grid] svg.separation-grid');
    expect(await grid.locator('rect.separation-cell').count()).toBe(1 * (1 + 2 * 3)); // one depth: clean + 2 modes × 3 levels
    expect(await grid.textContent()).toMatch(/Partial: last d_R = 40 of 49 channels[\s\S]*Full: all 49 channels/);
    for (const name of ['ssim', 'edges', 'summary'])
      expect(await cell.locator(`[data-figure=${name}] svg`).count()).toBeGreaterThan(0);

    const reading = page.getByTestId('separation-reading');
    expect(await reading.locator('tbody tr').count()).toBe(1);
    expect(await reading.innerText()).toMatch(/round trip at α = 0: max error \d\.\de-\d+/);
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs on WebGPU (SwiftShader): the header says WebGPU, a changed image re-runs the cell, the grid is drawn', async () => {
    const model = writeTestCheckpoint({ seed: 5 });
    // tiny: one depth, two levels, one sample (shaders compile on the first run; the second reuses them)
    const { page, errors } = await app.openRoute('/separation?model=tiny28&seed=2&depths=1&images=1&levels=2', {
      backend: 'webgpu',
      setup: (p) => routeZooModel(p, model),
    });
    expect(await activeBackend(page)).toBe('WebGPU');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('tiny28');
    await waitForCell(page, 'separation', 'done', { timeout: 90_000 });
    await setControl(page, 'Test image number', 4);
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/[?&]image=4(&|$)/);
    await expect.poll(() => cellLocator(page, 'separation').getAttribute('data-status')).not.toBe('done');
    await waitForCell(page, 'separation', 'done', { timeout: 90_000 });

    const grid = cellLocator(page, 'separation').locator('[data-figure=grid] svg.separation-grid');
    expect(await grid.locator('rect.separation-cell').count()).toBe(1 + 2 * 2); // clean + 2 modes × 2 levels
    expect(await page.getByTestId('separation-reading').innerText()).toMatch(
      /round trip at α = 0: max error \d\.\de-\d+/,
    );
    expect(await activeBackend(page)).toBe('WebGPU');
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
  it('a Colored MNIST model: the image picker and the worker derive the test split from the MNIST file, never fetching the colored one', async () => {
    const bytes = mnistSizedCheckpoint({ channels: 3, dataset: 'colored-mnist' });
    const fetched: string[] = [];
    const { page, errors } = await app.open(
      '/?backend=wasm#/separation?model=tiny28&seed=1&depths=1&images=1&levels=2',
      {
        setup: async (p) => {
          p.on('request', (r) => fetched.push(new URL(r.url()).pathname));
          await routeZoo(p, bytes);
        },
      },
    );
    await waitForCell(page, 'separation', 'done', { timeout: 90_000 });
    await page.getByText(/^label \d$/).waitFor(); // the picker's preview shows a test image and its label
    const colour = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('canvas.nb-image-preview')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let differs = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) differs++;
      return differs;
    });
    expect(colour).toBeGreaterThan(0); // coloured, not gray
    expect(fetched.filter((f) => f.endsWith('/data/mnist-test.bin')).length).toBeGreaterThanOrEqual(2); // page and worker
    expect(fetched.filter((f) => f.includes('colored-mnist-test'))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
