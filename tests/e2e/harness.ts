// A Vite server on a free localhost port (the dev server, or the production build) plus headless
// Debian Chromium, for tests that drive the real page. Usage:
//   const app = await startApp();            // beforeAll
//   const { page, errors } = await app.open('/?backend=wasm');
//   ...; await page.close();
//   await app.close();                       // afterAll
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build as viteBuild, createServer, preview } from 'vite';

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

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** runs before navigation, e.g. to `page.route` requests of the page and its workers */
  setup?: (page: Page) => Promise<unknown>;
}

export interface App {
  /** e.g. http://localhost:41234 */
  origin: string;
  browser: Browser;
  /** opens `path` (relative to the origin) in a fresh browser context */
  open(path: string, options?: OpenOptions): Promise<OpenedPage>;
  close(): Promise<void>;
}

/** True when the browser the harness needs is installed (tests skip with a reason otherwise). */
export function hasChromium(): boolean {
  return existsSync(chromiumPath);
}

interface Served {
  port: number;
  close(): Promise<void>;
}

function portOf(server: { address(): unknown } | null | undefined): number {
  const address = server?.address();
  if (!address || typeof address !== 'object' || !('port' in address)) throw new Error('the Vite server has no TCP address');
  return (address as { port: number }).port;
}

/** The dev server, with file watching off: other edits in the tree must not reload the page mid-test. */
async function serveDev(root: string): Promise<Served> {
  const server = await createServer({
    root,
    configFile: `${root}/vite.config.ts`,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: 'localhost', port: 0, strictPort: false, hmr: false, watch: null },
  });
  try {
    await server.listen();
    return { port: portOf(server.httpServer), close: () => server.close() };
  } catch (e) {
    await server.close();
    throw e;
  }
}

/** `vite build` into a temporary folder, served by `vite preview`. */
async function serveBuild(root: string): Promise<Served> {
  const outDir = mkdtempSync(join(tmpdir(), 'farmer-e2e-build-'));
  const remove = () => rmSync(outDir, { recursive: true, force: true });
  try {
    const config = { root, configFile: `${root}/vite.config.ts`, logLevel: 'error' as const, build: { outDir, emptyOutDir: true } };
    await viteBuild(config);
    const server = await preview({ ...config, preview: { host: 'localhost', port: 0, strictPort: false } });
    return { port: portOf(server.httpServer), close: async () => (await server.close(), remove()) };
  } catch (e) {
    remove();
    throw e;
  }
}

/**
 * Serves the app (the dev server, or with `build: true` the production build through
 * `vite preview`) and launches Chromium.
 */
export async function startApp({ root = repoRoot, build = false }: { root?: string; build?: boolean } = {}): Promise<App> {
  const served = build ? await serveBuild(root) : await serveDev(root);
  let b: Browser;
  try {
    b = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  } catch (e) {
    await served.close();
    throw e;
  }
  const contexts = new Set<BrowserContext>();
  const origin = `http://localhost:${served.port}`;

  return {
    origin,
    browser: b,
    async open(path, { viewport = { width: 1200, height: 900 }, setup } = {}) {
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
      await setup?.(page);
      await page.goto(new URL(path, origin).href);
      return { page, errors };
    },
    async close() {
      await Promise.allSettled([...contexts].map((c) => c.close()));
      await b.close();
      await served.close();
    },
  };
}
