// A Vite dev server on a free localhost port plus headless Debian Chromium, for tests that drive
// the real page. Usage:
//   const app = await startApp();            // beforeAll
//   const { page, errors } = await app.open('/?backend=wasm');
//   ...; await page.close();
//   await app.close();                       // afterAll
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags that work headless as root (shared/docs/environment.md). */
export const chromiumArgs = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface OpenedPage {
  page: Page;
  /** console errors, uncaught exceptions and failed requests, from the page and its workers */
  errors: string[];
}

export interface App {
  /** e.g. http://localhost:41234 */
  origin: string;
  server: ViteDevServer;
  browser: Browser;
  /** opens `path` (relative to the origin) in a fresh browser context */
  open(path: string, options?: { viewport?: { width: number; height: number } }): Promise<OpenedPage>;
  close(): Promise<void>;
}

/** True when the browser the harness needs is installed (tests skip with a reason otherwise). */
export function hasChromium(): boolean {
  return existsSync(chromiumPath);
}

export async function startApp({ root = repoRoot }: { root?: string } = {}): Promise<App> {
  const server = await createServer({
    root,
    configFile: `${root}/vite.config.ts`,
    logLevel: 'warn',
    clearScreen: false,
    // Other edits in the tree must not reload the page mid-test.
    server: { host: 'localhost', port: 0, strictPort: false, hmr: false, watch: null },
  });
  let browser: Browser | undefined;
  const contexts = new Set<BrowserContext>();
  try {
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('the Vite server has no TCP address');
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  } catch (e) {
    await browser?.close();
    await server.close();
    throw e;
  }
  const port = (server.httpServer!.address() as { port: number }).port;
  const origin = `http://localhost:${port}`;
  const b = browser;

  return {
    origin,
    server,
    browser: b,
    async open(path, { viewport = { width: 1200, height: 900 } } = {}) {
      const context = await b.newContext({ viewport });
      contexts.add(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
      page.on('close', () => void context.close().finally(() => contexts.delete(context)));
      await page.goto(new URL(path, origin).href);
      return { page, errors };
    },
    async close() {
      await Promise.allSettled([...contexts].map((c) => c.close()));
      await b.close();
      await server.close();
    },
  };
}
