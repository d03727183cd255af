// The notebook machinery in headless Chromium, on the first registered notebook page (the
// separation notebook when it is there): a link restores model, seed and parameters; a cheap
// cell runs by itself; a reload shows the cached result without computing; the seed, Run with
// Shift+Enter, Cancel and the exports work as a person uses them; TensorFlow.js stays in the
// worker. How long the main thread is busy while a cell computes and draws is a benchmark
// (`npm run bench:ui`), not an assertion: under load it says more about the machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSDOM } from 'jsdom';
import { encodeCheckpoint, readCheckpoint } from '../../src/lib/io/checkpoint';
import { encodePng } from '../../src/lib/io/png';
import { notebooks } from '../../src/notebooks/registry';
import {
  cellLocator,
  cellStatuses,
  downloadFrom,
  hasChromium,
  loadModelFile,
  routeZooModel,
  setControl,
  startApp,
  tfjsOnMainThread,
  waitForCell,
  writeTestCheckpoint,
  type App,
  type TestCheckpoint,
} from './harness';

const separation = notebooks.find((n) => n.id === 'separation');

describe.skipIf(!hasChromium() || !separation)('notebook machinery in Chromium (separation page)', () => {
  let app: App;
  let model: TestCheckpoint;
  beforeAll(async () => {
    model = writeTestCheckpoint();
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a link loads its model and parameters; the cheap cell runs by itself; a reload shows the cached result without computing', async () => {
    const { page, errors } = await app.open('/?backend=wasm#/separation?model=tiny28&seed=3&levels=3', {
      setup: (p) => routeZooModel(p, model),
    });
    await page.getByTestId('loaded-model').getByText('tiny28').waitFor({ timeout: 60_000 });
    await waitForCell(page, 'separation');
    // TensorFlow.js runs in the worker only (the probe finds it there)
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(await Promise.all(page.workers().map((w) => w.evaluate(() => '_tfengine' in globalThis)))).toContain(true);
    expect(await cellStatuses(page, 'separation')).toEqual(expect.arrayContaining(['running', 'done']));
    const cell = cellLocator(page, 'separation');
    expect(await cell.getByTestId('cell-cost').innerText()).toMatch(/^Runs by itself after a change · /);
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('3');
    expect(await page.getByLabel('Noise levels α').inputValue()).toBe('3');
    const hash = await page.evaluate(() => location.hash);
    expect(hash).toMatch(/^#\/separation\?model=tiny28&seed=3&/);
    expect(hash).toContain('levels=3');
    expect(await page.evaluate(() => location.search)).toBe('?backend=wasm');
    const figures = await cell.locator('[data-figure]').count();
    expect(figures).toBeGreaterThan(0);

    await page.reload();
    await waitForCell(page, 'separation');
    expect(await cellStatuses(page, 'separation')).not.toContain('running');
    expect(await cell.getByTestId('cell-status').innerText()).toMatch(/done · from cache/);
    expect(await cell.locator('[data-figure]').count()).toBe(figures);

    await page.getByRole('button', { name: 'Clear cache' }).click();
    await page.getByText('Cache cleared').waitFor();
    await page.reload();
    await page.getByTestId('loaded-model').getByText('tiny28').waitFor({ timeout: 60_000 });
    await waitForCell(page, 'separation');
    expect(await cellStatuses(page, 'separation')).toContain('running');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a file model, the seed, Shift+Enter, Cancel, and every export', async () => {
    // the zoo has no mnist-farmer, so the notebook opens without a model (and says so)
    const { page, errors } = await app.openRoute('/separation', { setup: (p) => routeZooModel(p, model) });
    await expect
      .poll(() => page.getByRole('alert').filter({ hasText: 'opens with the zoo' }).innerText(), { timeout: 60_000 })
      .toMatch(/This notebook opens with the zoo's mnist-farmer, which is not in this zoo/);
    await loadModelFile(page, model);
    await waitForCell(page, 'separation');
    const cell = cellLocator(page, 'separation');

    // The seed is in the URL, and a new seed makes the result out of date until it re-runs.
    await setControl(page, 'Seed', 11);
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/[?&]seed=11(&|$)/);
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/[?&]model=tiny28\.safetensors(&|$)/);
    await waitForCell(page, 'separation');

    // An expensive setting: nothing runs until Shift+Enter, and Cancel stops it.
    await setControl(page, 'Samples averaged', 8);
    await setControl(page, 'Noise levels α', 11);
    await expect.poll(() => cell.getByTestId('cell-cost').innerText()).toMatch(/^Shift\+Enter runs · /);
    await expect.poll(() => cell.getAttribute('data-status')).toBe('stale');
    await page.getByLabel('Noise levels α').press('Shift+Enter');
    await waitForCell(page, 'separation', 'running');
    await cell.getByTestId('cell-cancel').click();
    await waitForCell(page, 'separation', 'cancelled');
    expect(await cell.locator('[data-figure]').count()).toBeGreaterThan(0); // the earlier result stays

    // Back to a cheap setting, which runs by itself.
    await setControl(page, 'Samples averaged', 1);
    await setControl(page, 'Noise levels α', 2);
    await waitForCell(page, 'separation');

    const firstFigure = cell.locator('[data-figure]').first();
    const name = await firstFigure.getAttribute('data-figure');
    const svg = await downloadFrom(page, () =>
      page.getByRole('button', { name: `Save figure ${name} as SVG` }).click(),
    );
    expect(svg.name).toBe(`separation-separation-${name}.svg`);
    expect(() => new JSDOM(svg.bytes.toString('utf8'), { contentType: 'image/svg+xml' })).not.toThrow();
    const png = await downloadFrom(page, () =>
      page.getByRole('button', { name: `Save figure ${name} as PNG` }).click(),
    );
    expect(png.bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const json = await downloadFrom(page, () => cell.getByRole('button', { name: /as JSON$/ }).click());
    const data = JSON.parse(json.bytes.toString('utf8'));
    expect(data).toMatchObject({
      notebook: 'separation',
      cell: 'separation',
      experiment: 'separation',
      seed: 11,
      backend: 'WebAssembly',
      model: { name: 'tiny28.safetensors' },
    });
    expect(data.model.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(data.params).toMatchObject({ images: 1, levels: 2, seed: 11 });
    const report = await downloadFrom(page, () =>
      page.getByRole('button', { name: 'Download the notebook as an HTML report' }).click(),
    );
    const html = new JSDOM(report.bytes.toString('utf8')).window.document;
    expect(report.name).toBe('separation-report.html');
    expect(html.querySelectorAll('section.cell svg').length).toBeGreaterThan(0);
    expect(html.body.textContent).toMatch(/Seed\s*11/);
    expect(html.querySelector('script')).toBeNull();

    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button, select, input, a[href], canvas')]
        .filter(
          (el) => !(el.getAttribute('aria-label') || (el as HTMLInputElement).labels?.length || el.textContent?.trim()),
        )
        .map((el) => el.outerHTML),
    );
    expect(unnamed).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the image picker: an uploaded picture (inverted when light) and a drawing, each with a class, re-run the cell', async () => {
    const { page, errors } = await app.openRoute('/separation?images=1&levels=2', {
      setup: (p) => routeZooModel(p, model),
    });
    await loadModelFile(page, model);
    await waitForCell(page, 'separation');
    const runs = async () => (await cellStatuses(page, 'separation')).filter((s) => s === 'running').length;
    const before = await runs();

    // A dark bar on light paper, 56×56 RGB: resized to 28×28×1 and inverted.
    const data = new Uint8Array(56 * 56 * 3).fill(235);
    for (let y = 8; y < 48; y++) for (let x = 24; x < 32; x++) data.fill(20, 3 * (56 * y + x), 3 * (56 * y + x) + 3);
    await page.getByRole('radio', { name: 'Upload' }).check();
    await page.getByLabel(/^Picture to upload/).setInputFiles({
      name: 'bar.png',
      mimeType: 'image/png',
      buffer: Buffer.from(encodePng({ data, height: 56, width: 56, channels: 3 })),
    });
    await expect.poll(() => page.getByLabel('Invert (dark strokes on light paper)').isChecked()).toBe(true);
    await setControl(page, 'Class of the image', '3');
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(before);
    await waitForCell(page, 'separation');
    const centre = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('canvas.nb-image-preview')!;
      return [
        c.width,
        c.height,
        c.getContext('2d')!.getImageData(14, 14, 1, 1).data[0],
        c.getContext('2d')!.getImageData(2, 2, 1, 1).data[0],
      ];
    });
    expect(centre.slice(0, 2)).toEqual([28, 28]);
    expect(centre[2]).toBeGreaterThan(200); // the bar, inverted: light
    expect(centre[3]).toBeLessThan(40); // the paper, inverted: dark

    const afterUpload = await runs();
    await page.getByRole('radio', { name: 'Draw' }).check();
    const pad = page.getByLabel(/^Drawing pad/);
    const box = (await pad.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++)
      await page.mouse.move(box.x + box.width * (0.3 + 0.04 * i), box.y + box.height * (0.2 + 0.06 * i));
    await page.mouse.up();
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(afterUpload);
    await waitForCell(page, 'separation');
    expect(errors).toEqual([]);
    await page.close();
  });
  it("a link naming no model opens the zoo's default and says which; a model card's sampling settings start the controls, the link overriding them", async () => {
    // the default, served as the zoo's mnist-farmer, with a card recommending T = 0.7 and s = 0.8
    const { config, card, weights } = readCheckpoint(model.bytes, 'tiny');
    const values = new Map([...weights].map(([k, v]) => [k, v.values]));
    const recommending = {
      ...model,
      name: 'mnist-farmer.safetensors',
      bytes: Buffer.from(encodeCheckpoint(config, values, { ...card, sampling: { T: 0.7, s: 0.8 } })),
    };
    let { page, errors } = await app.openRoute('/logdet', { setup: (p) => routeZooModel(p, recommending) });
    await page.getByTestId('loaded-model').getByText('mnist-farmer').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('model-picked').innerText()).toBe(
      "No model was named in the link, so the notebook opened with the zoo's mnist-farmer. Pick another above.",
    );
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#\/logdet\?model=mnist-farmer&seed=0&/);
    expect(await page.getByLabel('Mixture temperature T').inputValue()).toBe('0.7');
    expect(await page.getByLabel('Gaussian scale s (multiplies σ)').inputValue()).toBe('0.8');
    expect(errors).toEqual([]);
    await page.close();

    ({ page, errors } = await app.openRoute('/logdet?model=mnist-farmer&T=1.2', {
      setup: (p) => routeZooModel(p, recommending),
    }));
    await page.getByTestId('loaded-model').getByText('mnist-farmer').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByLabel('Mixture temperature T').inputValue()).toBe('1.2');
    expect(await page.getByLabel('Gaussian scale s (multiplies σ)').inputValue()).toBe('0.8');
    expect(await page.getByTestId('model-picked').count()).toBe(0); // the link named it
    expect(errors).toEqual([]);
    await page.close();
  });
});
