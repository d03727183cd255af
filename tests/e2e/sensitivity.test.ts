// The sensitivity notebook in headless Chromium: a conditional 28×28 checkpoint named in the
// link loads by itself, a person sets a 2×2 grid and n, sees the cost and time estimate, runs the
// cell, watches the heatmaps fill, clicks a cell for its samples and reads Table 5. On WebAssembly
// and on WebGPU (SwiftShader).
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
  runCell,
  setControl,
  startApp,
  tfjsOnMainThread,
  waitForCell,
  writeTestCheckpoint,
  type App,
} from './harness';

/** Random weights at MNIST's size, 10 classes (so Table 5 has a CFG column): 16 tokens of 49 dims. */
function conditionalCheckpoint(): Buffer {
  const config = parseConfig({
    image: { height: 28, width: 28, channels: 1 },
    patch_size: 7,
    num_classes: 10,
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
    label_dropout: 0.1,
  });
  const rng = new Rng(6);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of paramShapes(config))
    values.set(
      name,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.05 * rng.normal()),
    );
  return Buffer.from(encodeCheckpoint(config, values, { dataset: 'mnist', steps: 0, time_s: 0, seed: 6, metrics: {} }));
}

async function routeZoo(page: Page, bytes: Buffer): Promise<void> {
  const listing = {
    models: [
      {
        name: 'cond28',
        file: 'cond28.safetensors',
        title: 'Conditional 28×28',
        dataset: 'mnist',
        description: 'Random weights.',
      },
    ],
  };
  // a request still in flight when the test closes the page is not an error of the page
  const quiet = () => undefined;
  await page.context().route('**/models/index.json', (r) => r.fulfill({ json: listing }).catch(quiet));
  await page
    .context()
    .route('**/models/cond28.safetensors', (r) =>
      r.fulfill({ body: bytes, contentType: 'application/octet-stream' }).catch(quiet),
    );
}

describe.skipIf(!hasChromium())('sensitivity notebook in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs a 2×2 grid from the controls: heatmaps fill, a clicked cell shows its samples, Table 5 with CFG', async () => {
    const bytes = conditionalCheckpoint();
    const { page, errors } = await app.open('/?backend=wasm#/sensitivity?model=cond28&seed=2', {
      setup: (p) => routeZoo(p, bytes),
    });
    const cell = page.locator('[data-cell=sensitivity]');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('cond28');

    for (const [label, value] of [
      ['Mixture temperatures T', '1, 1.3'],
      ['Gaussian scales s', '0.9 1'],
      ['Samples per point (n)', '6'],
      ['Samples kept per point', '4'],
    ]) {
      await page.getByLabel(label).fill(value);
      await page.getByLabel(label).press('Tab');
    }
    await expect
      .poll(() => page.getByTestId('cell-cost').innerText())
      .toMatch(/4 grid points \(2 T × 2 s\) × 6 samples × 16 tokens \+ 2 CFG runs/);
    expect(await page.getByTestId('time-estimate').innerText()).toMatch(
      /^Expected time: about \d+ s on WebAssembly \(measured on a busy 2-core CPU\)\. /,
    );
    // an expensive cell: nothing runs until asked, however cheap the grid
    expect(await cell.getAttribute('data-status')).toBe('idle');

    await page.getByRole('button', { name: /^Run Decoupled sampling/ }).click();
    // the heatmap is drawn while the grid fills, then every cell has a value
    await expect
      .poll(() => cell.locator('[data-figure=fid-heatmap] rect[data-point]').count(), { timeout: 60_000 })
      .toBe(4);
    await waitForCell(page, 'sensitivity');
    const heat = cell.locator('[data-figure=fid-heatmap]');
    expect(await heat.textContent()).toContain('FID (mnist-cnn features, not Inception)');
    expect(await heat.locator('text').allInnerTexts()).not.toContain('…');
    expect(await cell.locator('[data-figure=samples] image[data-point]').count()).toBe(4);
    const table5 = (await cell.locator('[data-figure=table5]').textContent()) ?? '';
    expect(table5).toMatch(/with CFG \(resampling, w = 2\.5\)/);
    expect(table5).not.toContain('…');

    // the paper's point is shown first; clicking the (T = 1, s = 1) cell shows its samples
    const samples = page.getByTestId('sensitivity-samples');
    expect(await samples.innerText()).toContain('T = 1.3, s = 0.9');
    await heat.locator('rect[data-point="1"]').click();
    await expect.poll(() => samples.locator('svg').textContent()).toMatch(/^T = 1, s = 1: /);
    expect(await samples.locator('svg image').count()).toBe(1);

    expect(await page.getByTestId('sensitivity-reading').innerText()).toMatch(
      /Each FID compares 6 samples with 6 test images/,
    );
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs on WebGPU (SwiftShader): the header says WebGPU; one point of 2 samples gets its FID, IS and samples', async () => {
    const model = writeTestCheckpoint({ seed: 6 });
    const { page, errors } = await app.openRoute('/sensitivity?model=tiny28&seed=2', {
      backend: 'webgpu',
      setup: (p) => routeZooModel(p, model),
    });
    expect(await activeBackend(page)).toBe('WebGPU');
    const cell = cellLocator(page, 'sensitivity');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('tiny28');
    for (const [label, value] of [
      ['Mixture temperatures T', '1.3'],
      ['Gaussian scales s', '0.9'],
      ['Samples per point (n)', '2'],
      ['Samples kept per point', '2'],
    ] as const)
      await setControl(page, label, value);
    await setControl(page, 'Also run Table 5 (FID with and without CFG)', false);
    await expect
      .poll(() => page.getByTestId('cell-cost').innerText())
      .toMatch(/^Shift\+Enter runs · 1 grid points \(1 T × 1 s\) × 2 samples × 16 tokens;/);
    expect(await page.getByTestId('time-estimate').innerText()).toMatch(/; WebGPU is not measured/);
    await runCell(page, 'sensitivity');
    await waitForCell(page, 'sensitivity', 'done', { timeout: 90_000 });

    const heat = cell.locator('[data-figure=fid-heatmap]');
    expect(await heat.locator('rect[data-point]').count()).toBe(1);
    expect(await heat.locator('text').allInnerTexts()).not.toContain('…');
    expect(await cell.locator('[data-figure=samples] image[data-point]').count()).toBe(1);
    expect(await page.getByTestId('sensitivity-samples').locator('svg image').count()).toBe(1);
    expect(await activeBackend(page)).toBe('WebGPU');
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});
