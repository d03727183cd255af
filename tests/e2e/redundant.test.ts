// The redundant-variance notebook in headless Chromium: a 28×28 checkpoint named in the link
// loads, the cell waits for Run, then draws the grid (one row per s_R plus the reference) and the
// structure curves, and reads the rows. A bad scale list is refused under the controls without
// losing the drawn result. TensorFlow.js stays in the worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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

describe.skipIf(!hasChromium())('redundant-variance notebook in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs on request, draws the grid and the curves, and refuses a bad scale list', async () => {
    const model = writeTestCheckpoint({ seed: 9 });
    const { page, errors } = await app.openRoute('/redundant?model=tiny28&seed=3&n=3', {
      setup: (p) => routeZooModel(p, model),
    });
    const cell = cellLocator(page, 'redundant');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('tiny28');
    await setControl(page, 'Redundant scales s_R', '0,0.5,2');
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/scales=0%2C0\.5%2C2|scales=0,0\.5,2/);
    expect(await cell.getAttribute('data-status')).not.toBe('running'); // runs only on request
    await runCell(page, 'redundant');
    await waitForCell(page, 'redundant');
    const grid = cell.locator('[data-figure=grid] svg');
    expect(await grid.locator('image').count()).toBe(1);
    const labels = await grid.locator('text').allTextContents();
    expect(labels.filter((t) => t.startsWith('s_R = '))).toEqual(['s_R = 0', 's_R = 0.5', 's_R = 1 ◂', 's_R = 2']);
    expect(labels.filter((t) => t.startsWith('y = '))).toEqual(['y = 0', 'y = 1', 'y = 2']);
    expect(await cell.locator('[data-figure=structure] svg').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('redundant-reading').innerText()).toMatch(
      /the lowest scale \(0\) keeps SSIM -?\d\.\d{3}/,
    );

    await setControl(page, 'Redundant scales s_R', '0,-1');
    await expect.poll(() => cell.innerText()).toMatch(/invalid scales/);
    expect(await grid.count()).toBe(1); // the drawn result stays
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});
