// Regenerates docs/screenshot.png (the README's picture of the home page):
//   npx tsx tests/e2e/screenshot.ts
import { mkdirSync } from 'node:fs';
import { repoRoot, startApp } from './harness';

const app = await startApp();
try {
  const { page, errors } = await app.open('/', { viewport: { width: 1100, height: 760 } });
  await page.getByTestId('active-backend').and(page.locator('[data-state=ready]')).waitFor({ timeout: 60_000 });
  await page.locator('[data-testid=zoo-empty], [data-testid=zoo-list], [data-testid=zoo-error]').first().waitFor();
  await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0)); // the thumbnails
  if (errors.length) throw new Error(`the page logged errors:\n${errors.join('\n')}`);
  mkdirSync(`${repoRoot}/docs`, { recursive: true });
  await page.screenshot({ path: `${repoRoot}/docs/screenshot.png`, fullPage: true });
  console.log('wrote docs/screenshot.png');
} finally {
  await app.close();
}
