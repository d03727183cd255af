// The logdet notebook in headless Chromium: a 28×28 checkpoint named in the link loads by itself,
// a person sets the image counts, runs the cell, reads the rule and correlations, and clicks a
// gallery thumbnail and a scatter point to see that image, its numbers and its per-token map.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/lib/farmer/config';
import { paramShapes } from '../../src/lib/farmer/params';
import { encodeCheckpoint } from '../../src/lib/io/checkpoint';
import { Rng } from '../../src/lib/util/random';
import { hasChromium, startApp, type App } from './harness';

/** Random weights at MNIST's size, class-conditional prior: 2 blocks, 16 tokens of 49 dims. */
function mnistSizedCheckpoint(): Buffer {
  const config = parseConfig({
    image: { height: 28, width: 28, channels: 1 },
    patch_size: 7,
    num_classes: 10,
    af: { blocks: 2, layers_per_block: 1, width: 16, head_dim: 8, mlp_ratio: 2, class_conditional: false, soft_clip: 0 },
    prior: {
      kind: 'farmer', informative_dims: 9, cond_repeat: 1, final_permute: true, mixtures_informative: 2, mixtures_redundant: 2,
      ar: { layers: 1, width: 16, head_dim: 8, mlp_ratio: 2 },
    },
    dequantization: { kind: 'uniform' },
    label_dropout: 0,
  });
  const rng = new Rng(9);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of paramShapes(config))
    values.set(name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.05 * rng.normal()));
  return Buffer.from(encodeCheckpoint(config, values, { dataset: 'mnist', steps: 0, time_s: 0, seed: 9, metrics: {} }));
}

async function routeZoo(page: Page, bytes: Buffer): Promise<void> {
  const listing = { models: [{ name: 'tiny28', file: 'tiny28.safetensors', title: 'Tiny 28×28', dataset: 'mnist', description: 'Random weights.' }] };
  await page.context().route('**/models/index.json', (r) => r.fulfill({ json: listing }));
  await page.context().route('**/models/tiny28.safetensors', (r) => r.fulfill({ body: bytes, contentType: 'application/octet-stream' }));
}

describe.skipIf(!hasChromium())('logdet notebook in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs from the controls; the rule, correlations, gallery and scatter clicks show the picked image', async () => {
    const { page, errors } = await app.open('/?backend=wasm#/logdet?model=tiny28&seed=3', { setup: (p) => routeZoo(p, mnistSizedCheckpoint()) });
    const cell = page.locator('[data-cell=logdet]');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('tiny28');

    await page.getByLabel('Test images').fill('24');
    await page.getByLabel('Test images').press('Tab');
    await page.getByLabel('Samples', { exact: true }).fill('4');
    await page.getByLabel('Samples', { exact: true }).press('Tab');
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#\/logdet\?model=tiny28&seed=3&.*nSamples=4.*nTest=24/);
    expect(await cell.getAttribute('data-status')).not.toBe('running'); // runs only on request

    await page.getByRole('button', { name: 'Run Logdet outliers' }).click();
    await expect.poll(() => cell.getAttribute('data-status'), { timeout: 90_000 }).toBe('done');

    for (const name of ['logdet-histogram', 'logdet-per-block', 'token-heatmap', 'blur-scatter']) expect(await cell.locator(`[data-figure=${name}] svg`).count()).toBeGreaterThan(0);
    expect(await cell.locator('[data-figure=gallery-test] g[data-source=test]').count()).toBe(24);
    expect(await cell.locator('[data-figure=gallery-samples] g[data-source=sample]').count()).toBeLessThanOrEqual(4);

    expect(await page.getByTestId('rule-test').innerText()).toMatch(/median -?\d+\.\d nats, MAD \d+\.\d\d.*\d+ of 24 flagged/);
    expect(await page.getByTestId('correlation-test').innerText()).toMatch(/Spearman ρ\(logdet, variance of the Laplacian\) = -?\d\.\d{3} over 24 test images.*: (negative|positive|zero)/);

    // A gallery thumbnail: its image, logdet and map.
    const thumb = cell.locator('[data-figure=gallery-test] g[data-index="5"]');
    await thumb.click();
    await expect.poll(() => page.getByTestId('selected-title').innerText()).toBe('test image 5');
    const caption = (await thumb.locator('text').textContent())!.replace(' ●', '');
    expect(Number((await page.getByTestId('selected-logdet').innerText()).replace(' nats', '')).toFixed(1)).toBe(caption);
    await page.getByLabel('Heatmap block').selectOption({ label: 'block 1' });
    await expect.poll(() => page.getByTestId('selected-heatmap').innerText()).toMatch(/test image 5, block 1/);
    expect(await page.getByTestId('selected-heatmap').locator('svg rect').count()).toBeGreaterThanOrEqual(16);

    // A point of the scatter (test panel): hover, then click.
    const dot = cell.locator('[data-figure=blur-scatter] svg g[aria-label=dot] circle').first();
    await dot.evaluate((el) => el.scrollIntoView({ block: 'center' })); // clear of the sticky app bar
    const box = (await dot.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tip = cell.locator('[data-figure=blur-scatter] g[aria-label=tip]');
    await expect.poll(() => tip.textContent()).toMatch(/(test|sample) \d+/);
    const [, source, index] = /(test|sample) (\d+)/.exec((await tip.textContent())!)!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.getByTestId('selected-title').innerText()).toBe(`${source === 'test' ? 'test image' : 'sample'} ${index}`);
    expect(errors).toEqual([]);
    await page.close();
  });
});
