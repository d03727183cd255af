// The production bundle, not only the dev server: the worker must start and run each backend,
// and the cross-origin isolation headers must let the wasm backend use threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, startApp, type App } from './harness';

describe.skipIf(!hasChromium())('production build in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp({ build: true });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs the threaded wasm backend in a cross-origin isolated page', async () => {
    const { page, errors } = await app.open('/?backend=wasm');
    const header = page.getByTestId('active-backend');
    await header.and(page.locator('[data-state=ready], [data-state=error]')).waitFor({ timeout: 45_000 });
    expect(await header.innerText()).toBe('WebAssembly');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.locator('[data-testid=zoo-empty], [data-testid=zoo-list]').first().waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });
});
