// The logdet notebook in headless Chromium: a 28×28 checkpoint named in the link loads by itself,
// a person sets the image counts, runs the cell, reads the rule and correlations, and clicks a
// gallery thumbnail and a scatter point to see that image, its numbers and its per-token map.
// On WebAssembly and on WebGPU (SwiftShader). Main-thread long tasks are measured by
// `npm run bench:ui`, not asserted here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe.skipIf(!hasChromium())('logdet notebook in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs from the controls; the rule, correlations, gallery and scatter clicks show the picked image', async () => {
    const model = writeTestCheckpoint({ seed: 9 });
    const { page, errors } = await app.openRoute('/logdet?model=tiny28&seed=3', {
      setup: (p) => routeZooModel(p, model),
    });
    const cell = cellLocator(page, 'logdet');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('tiny28');

    await setControl(page, 'Test images', 24);
    await setControl(page, 'Samples', 4);
    await expect
      .poll(() => page.evaluate(() => location.hash))
      .toMatch(/^#\/logdet\?model=tiny28&seed=3&.*nSamples=4.*nTest=24/);
    expect(await cell.getAttribute('data-status')).not.toBe('running'); // runs only on request

    await runCell(page, 'logdet');
    await waitForCell(page, 'logdet');

    for (const name of ['logdet-histogram', 'logdet-per-block', 'token-heatmap', 'blur-scatter'])
      expect(await cell.locator(`[data-figure=${name}] svg`).count()).toBeGreaterThan(0);
    expect(await cell.locator('[data-figure=gallery-test] g[data-source=test]').count()).toBe(24);
    expect(await cell.locator('[data-figure=gallery-samples] g[data-source=sample]').count()).toBeLessThanOrEqual(4);

    expect(await page.getByTestId('rule-test').innerText()).toMatch(
      /median -?\d+\.\d nats, MAD \d+\.\d\d.*\d+ of 24 flagged/,
    );
    expect(await page.getByTestId('correlation-test').innerText()).toMatch(
      /Spearman ρ\(logdet, variance of the Laplacian\) = -?\d\.\d{3} over 24 test images.*: (negative|positive|zero)/,
    );

    // A gallery thumbnail: its image, logdet and map.
    const title = page.getByTestId('selected-title');
    const thumb = cell.locator('[data-figure=gallery-test] g[data-index="5"]');
    await thumb.click();
    await expect.poll(() => title.innerText()).toBe('test image 5');
    const caption = (await thumb.locator('text').textContent())!.replace(' ●', '');
    expect(Number((await page.getByTestId('selected-logdet').innerText()).replace(' nats', '')).toFixed(1)).toBe(
      caption,
    );
    await setControl(page, 'Heatmap block', 'block 1');
    await expect.poll(() => page.getByTestId('selected-heatmap').textContent()).toMatch(/test image 5, block 1/);
    expect(await page.getByTestId('selected-heatmap').locator('svg rect').count()).toBeGreaterThanOrEqual(16);

    // A point of the scatter: hover (the tip names it), then click.
    const dot = cell.locator('[data-figure=blur-scatter] svg g[aria-label=dot] circle').first();
    await dot.evaluate((el) => el.scrollIntoView({ block: 'center' })); // clear of the sticky app bar
    const box = (await dot.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tip = cell.locator('[data-figure=blur-scatter] g[aria-label=tip]');
    await expect.poll(() => tip.textContent()).toMatch(/(test|sample) \d+/);
    const [, source, index] = /(test|sample) (\d+)/.exec((await tip.textContent())!)!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => title.innerText()).toBe(`${source === 'test' ? 'test image' : 'sample'} ${index}`);

    // The default image counts: drawing 256 test images and 32 samples keeps the page responsive.
    await setControl(page, 'Test images', 256);
    await setControl(page, 'Samples', 32);
    await runCell(page, 'logdet');
    await waitForCell(page, 'logdet');
    expect(await cell.locator('[data-figure=gallery-test] g[data-source=test]').count()).toBe(64);
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs on WebGPU (SwiftShader): the header says WebGPU; 8 test images and 2 samples give every figure', async () => {
    const model = writeTestCheckpoint({ seed: 9 });
    const { page, errors } = await app.openRoute('/logdet?model=tiny28&seed=3', {
      backend: 'webgpu',
      setup: (p) => routeZooModel(p, model),
    });
    expect(await activeBackend(page)).toBe('WebGPU');
    const cell = cellLocator(page, 'logdet');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('tiny28');
    await setControl(page, 'Test images', 8);
    await setControl(page, 'Samples', 2);
    await runCell(page, 'logdet');
    await waitForCell(page, 'logdet', 'done', { timeout: 90_000 });

    for (const name of ['logdet-histogram', 'logdet-per-block', 'token-heatmap', 'blur-scatter'])
      expect(await cell.locator(`[data-figure=${name}] svg`).count()).toBeGreaterThan(0);
    expect(await cell.locator('[data-figure=gallery-test] g[data-source=test]').count()).toBe(8);
    expect(await page.getByTestId('rule-test').innerText()).toMatch(
      /median -?\d+\.\d nats, MAD \d+\.\d\d.*\d+ of 8 flagged/,
    );
    expect(await activeBackend(page)).toBe('WebGPU');
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});
