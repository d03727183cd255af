// The likelihood notebook in headless Chromium: a 28×28 checkpoint named in the link loads, the
// cell runs by itself (a forward pass only), the reading and the term table agree with each
// other, a new image count re-runs it and lands in the link, and conditioning on the label gives
// another number. TensorFlow.js stays in the worker (main-thread long tasks: npm run bench:ui).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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

describe.skipIf(!hasChromium())('likelihood notebook in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs by itself, reads the BPD against the baselines, and follows its controls', async () => {
    const model = writeTestCheckpoint({ seed: 9 });
    const { page, errors } = await app.openRoute('/likelihood?model=tiny28&seed=3&n=48', {
      setup: (p) => routeZooModel(p, model),
    });
    const cell = cellLocator(page, 'likelihood');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('tiny28');
    await waitForCell(page, 'likelihood');
    for (const name of ['bpd-histogram', 'bpd-terms', 'bits-map', 'bpd-by-class'])
      expect(await cell.locator(`[data-figure=${name}] svg`).count()).toBeGreaterThan(0);

    const sentence = await page.getByTestId('likelihood-sentence').innerText();
    const m =
      /^Mean test BPD (\d+\.\d{3}) ± \d+\.\d{3} \(95% interval\) over 48 images, (above|below) the (\d+\.\d{3}) bits\/dim/.exec(
        sentence,
      );
    expect(m, sentence).not.toBeNull();
    const bpd = await page.getByTestId('likelihood-bpd').innerText();
    expect(bpd).toBe(m![1]);
    const terms = await page.getByTestId('likelihood-terms').innerText();
    const numbers = [...terms.matchAll(/(-?\d+\.\d{3})/g)].map((x) => Number(x[1]));
    // log₂128 + informative + redundant + flow = BPD (rounded to 3 decimals each)
    expect(Math.abs(numbers[0] + numbers[1] + numbers[2] + numbers[3] - numbers[4])).toBeLessThan(0.003);
    expect(numbers[5]).toBe(Number(m![3])); // the per-position baseline in the table and the sentence

    await setControl(page, 'Test images', 64);
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#\/likelihood\?model=tiny28&seed=3&.*n=64/);
    await expect
      .poll(() => page.getByTestId('likelihood-sentence').innerText(), { timeout: 60_000 })
      .toMatch(/over 64 images/);
    await waitForCell(page, 'likelihood');
    const unconditional = await page.getByTestId('likelihood-bpd').innerText();
    await setControl(page, 'Condition on the test label (log p(x | y))', true);
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/conditional=true/);
    await waitForCell(page, 'likelihood');
    await expect
      .poll(() => page.getByTestId('likelihood-bpd').innerText(), { timeout: 60_000 })
      .not.toBe(unconditional);
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});
