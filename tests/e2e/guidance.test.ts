// The guidance notebook in headless Chromium: a conditional 28×28 checkpoint named in the link
// loads, the cell waits for Run, then fills one row of samples per setting (unguided, naive and
// resampling CFG), draws FID, IS and class agreement against w, and reads the rows. A bad weight
// list is refused under the controls without losing the drawn result. TensorFlow.js stays in the
// worker (main-thread long tasks: npm run bench:ui).
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

describe.skipIf(!hasChromium())('guidance notebook in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs on request, fills the rows and the curves, and refuses a bad weight list', async () => {
    const model = writeTestCheckpoint({ seed: 5 });
    const { page, errors } = await app.openRoute('/guidance?model=tiny28&seed=3&n=12&keep=4&batch=12', {
      setup: (p) => routeZooModel(p, model),
    });
    const cell = cellLocator(page, 'guidance');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('tiny28');
    await setControl(page, 'Guidance weights w', '0,2');
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/weights=0%2C2|weights=0,2/);
    expect(await cell.getAttribute('data-status')).not.toBe('running'); // runs only on request
    await runCell(page, 'guidance');
    await waitForCell(page, 'guidance');
    const grid = cell.locator('[data-figure=samples] svg');
    expect(await grid.locator('image').count()).toBe(3);
    const labels = await grid.locator('text').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['unguided', 'naive w = 2', 'resampling w = 2', 'y = 0', 'y = 3']));
    for (const name of ['fid', 'is', 'accuracy'])
      expect(await cell.locator(`[data-figure=${name}] svg`).count()).toBeGreaterThan(0);
    const reading = await page.getByTestId('guidance-reading').innerText();
    expect(reading).toMatch(/Unguided: FID \d+\.\d/);
    expect(reading).toMatch(/Resampling CFG: lowest FID \d+\.\d at w = 2/);

    await setControl(page, 'Guidance weights w', '0,-1');
    await expect.poll(() => cell.innerText()).toMatch(/invalid weights/);
    expect(await grid.count()).toBe(1); // the drawn result stays
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});
