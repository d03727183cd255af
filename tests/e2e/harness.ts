// A Vite server on a free localhost port (the dev server, or the production build) plus headless
// Debian Chromium, for tests that drive the real page. Usage:
//   const app = await startApp();            // beforeAll
//   const { page, errors } = await app.open('/?backend=wasm');
//   ...; await page.close();
//   await app.close();                       // afterAll
// Notebook pages:
//   const model = writeTestCheckpoint();     // a tiny 28×28×1 conditional MNIST-shaped checkpoint
//   const { page, errors } = await app.openRoute('/separation?seed=3', { backend: 'wasm' });
//   await loadModelFile(page, model);        // through the notebook's file picker
//   await setControl(page, 'Noise levels α', 3);
//   await runCell(page, 'separation');
//   await waitForCell(page, 'separation');   // data-status="done" (throws on "error")
// Main-thread long tasks are for benchmarks (scripts/bench-ui.ts), not assertions:
//   const start = await pageTime(page); …; await longTasks(page, { since: start, over: 0 }); // every long task (≥ 50 ms) since
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Download,
  type Locator,
  type Page,
  type Request,
} from 'playwright-core';
import { build as viteBuild, createServer, preview } from 'vite';
import { parseConfig, type FarmerConfig } from '../../src/lib/farmer/config';
import { paramShapes } from '../../src/lib/farmer/params';
import { encodeCheckpoint } from '../../src/lib/io/checkpoint';
import type { BackendPreference } from '../../src/lib/runtime/protocol';
import { Rng } from '../../src/lib/util/random';
import { ensureTestData } from '../helpers/test-data';
import { chromiumArgs, chromiumPath } from '../helpers/chromium';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export { chromiumArgs, chromiumPath };

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
  /** opens hash route `route` (e.g. "/separation?seed=3") with `?backend=` (default wasm) */
  openRoute(route: string, options?: OpenOptions & { backend?: BackendPreference }): Promise<OpenedPage>;
  close(): Promise<void>;
}

/** `/?backend=wasm#/separation?seed=3` for route "/separation?seed=3"; `auto` leaves the query out. */
export function routePath(route: string, backend: BackendPreference = 'wasm'): string {
  const hash = route.startsWith('#') ? route : `#${route.startsWith('/') ? route : `/${route}`}`;
  return `/${backend === 'auto' ? '' : `?backend=${backend}`}${hash}`;
}

/**
 * Runs in every page and worker-less frame before its scripts: records main-thread long tasks
 * (the Long Tasks API reports those of 50 ms and more; window.__longTasks) and every data-status
 * a notebook cell shows (window.__cellStatuses, in order, with the time).
 */
function recorders(): void {
  const w = window as unknown as { __longTasks: unknown[]; __cellStatuses: unknown[] };
  w.__longTasks = [];
  w.__cellStatuses = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        w.__longTasks.push({ name: e.name, startTime: Math.round(e.startTime), duration: Math.round(e.duration) });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // no Long Tasks API: nothing is recorded
  }
  const record = (el: Element) => {
    const cell = el.getAttribute('data-cell'),
      status = el.getAttribute('data-status');
    if (cell && status) w.__cellStatuses.push({ cell, status, t: Math.round(performance.now()) });
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === 'attributes') record(m.target as Element);
      else
        for (const n of m.addedNodes)
          if (n instanceof Element)
            [n, ...n.querySelectorAll('[data-cell]')].forEach((el) => el.hasAttribute('data-cell') && record(el));
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
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
  if (!address || typeof address !== 'object' || !('port' in address))
    throw new Error('the Vite server has no TCP address');
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
    const config = {
      root,
      configFile: `${root}/vite.config.ts`,
      logLevel: 'error' as const,
      build: { outDir, emptyOutDir: true },
    };
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
export async function startApp({
  root = repoRoot,
  build = false,
}: { root?: string; build?: boolean } = {}): Promise<App> {
  ensureTestData();
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

  const app: App = {
    origin,
    browser: b,
    async open(path, { viewport = { width: 1200, height: 900 }, setup } = {}) {
      const context = await b.newContext({ viewport, acceptDownloads: true });
      // tsx (scripts such as screenshot.ts) compiles with esbuild's keepNames, which wraps
      // functions in __name(…) calls; the serialized recorders need that helper in the page too.
      await context.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
      await context.addInitScript(recorders);
      contexts.add(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      // A reload or navigation aborts the requests still in flight (e.g. the image picker's test
      // split): those are not failures of the page.
      let navigations = 0;
      const startedAt = new WeakMap<Request, number>();
      page.on('framenavigated', (f) => void (f === page.mainFrame() && navigations++));
      page.on('request', (r) => startedAt.set(r, navigations));
      page.on('requestfailed', (r) => {
        const why = r.failure()?.errorText ?? '';
        const record = () => errors.push(`request failed: ${r.url()} ${why}`);
        if (why !== 'net::ERR_ABORTED') return record();
        // A reload aborts what the old page (or its worker) was fetching; on a busy machine the
        // abort can be reported just before the navigation it belongs to.
        const navigated = () => navigations > (startedAt.get(r) ?? navigations);
        if (!navigated()) setTimeout(() => navigated() || record(), 1000);
      });
      // The browser may already be closing (afterAll): a failed context close is not an error.
      page.on(
        'close',
        () =>
          void context
            .close()
            .catch(() => {})
            .finally(() => contexts.delete(context)),
      );
      await setup?.(page);
      await page.goto(new URL(path, origin).href);
      return { page, errors };
    },
    openRoute(route, { backend = 'wasm', ...options } = {}) {
      return app.open(routePath(route, backend), options);
    },
    async close() {
      await Promise.allSettled([...contexts].map((c) => c.close()));
      await b.close();
      await served.close();
    },
  };
  return app;
}

// ---- models ----

export interface TestCheckpoint {
  /** the file, in a temporary folder */
  path: string;
  /** its file name, which the page shows as the model's name once loaded */
  name: string;
  bytes: Buffer;
  config: FarmerConfig;
}

/**
 * A tiny class-conditional checkpoint shaped like an MNIST model (28×28×1, patch 7: 16 tokens of
 * 49 dims; 2 AF blocks of width 16, class-conditional AF; FARMER prior d_I = 9), seeded random
 * weights, card dataset "mnist", written to a temporary folder (or `dir`).
 */
export function writeTestCheckpoint({
  dir,
  name = 'tiny28.safetensors',
  seed = 4,
  numClasses = 10,
}: { dir?: string; name?: string; seed?: number; numClasses?: number } = {}): TestCheckpoint {
  const config = parseConfig({
    image: { height: 28, width: 28, channels: 1 },
    patch_size: 7,
    num_classes: numClasses,
    af: {
      blocks: 2,
      layers_per_block: 1,
      width: 16,
      head_dim: 8,
      mlp_ratio: 2,
      class_conditional: numClasses > 0,
      soft_clip: 0,
    },
    prior: {
      kind: 'farmer',
      informative_dims: 9,
      cond_repeat: 1,
      final_permute: true,
      mixtures_informative: 2,
      mixtures_redundant: 2,
      ar: { layers: 1, width: 16, head_dim: 8, mlp_ratio: 2 },
    },
    dequantization: { kind: 'uniform' },
    label_dropout: 0,
  });
  const rng = new Rng(seed);
  const values = new Map<string, Float32Array>();
  for (const [tensor, shape] of paramShapes(config))
    values.set(
      tensor,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.05 * rng.normal()),
    );
  const bytes = Buffer.from(
    encodeCheckpoint(config, values, { dataset: 'mnist', steps: 0, time_s: 0, seed, metrics: {} }),
  );
  const path = join(dir ?? mkdtempSync(join(tmpdir(), 'farmer-e2e-model-')), name);
  writeFileSync(path, bytes);
  return { path, name, bytes, config };
}

/** Serves `model` as the only zoo entry (named its file name without .safetensors) to this page's context. */
export async function routeZooModel(page: Page, model: TestCheckpoint, { title = 'Test model' } = {}): Promise<string> {
  const name = model.name.replace(/\.safetensors$/, '');
  const listing = {
    models: [{ name, file: model.name, title, dataset: 'mnist', description: 'Seeded random weights for tests.' }],
  };
  await page.context().route('**/models/index.json', (r) => r.fulfill({ json: listing }));
  await page
    .context()
    .route(`**/models/${model.name}`, (r) => r.fulfill({ body: model.bytes, contentType: 'application/octet-stream' }));
  return name;
}

/** Loads `model` through the page's checkpoint file picker and waits until the header names it. */
export async function loadModelFile(
  page: Page,
  model: Pick<TestCheckpoint, 'path' | 'name'>,
  { timeout = 60_000 } = {},
): Promise<void> {
  const picker = page.locator('input[type=file][accept=".safetensors"]:enabled').first();
  await picker.waitFor({ state: 'attached', timeout });
  await picker.setInputFiles(model.path);
  const header = page.getByTestId('loaded-model');
  const deadline = Date.now() + timeout;
  for (;;) {
    if ((await header.innerText()).trim() === model.name) return;
    const error = page.getByTestId('model-error');
    if (await error.count()) throw new Error(`loading ${model.name} failed: ${await error.first().innerText()}`);
    if (Date.now() > deadline)
      throw new Error(`${model.name} was not loaded within ${timeout} ms (header: "${await header.innerText()}")`);
    await page.waitForTimeout(100);
  }
}

// ---- controls and cells ----

/**
 * Sets the control labelled `label` (inside `scope`, the page or a cell) the way a person does:
 * sliders and number/text inputs are filled and left (change fires), selects choose the option
 * with that value or label, checkboxes and radios are (un)checked.
 */
export async function setControl(
  scope: Page | Locator,
  label: string | RegExp,
  value: string | number | boolean,
): Promise<void> {
  const control = scope.getByLabel(label, { exact: typeof label === 'string' }).first();
  const [tag, type] = await control.evaluate((el) => [el.localName, (el as HTMLInputElement).type ?? '']);
  if (tag === 'select') {
    const v = String(value);
    const byValue = await control.locator(`option[value="${v.replace(/"/g, '\\"')}"]`).count();
    await control.selectOption(byValue ? { value: v } : { label: v });
  } else if (type === 'checkbox' || type === 'radio') await control.setChecked(value === true || value === 'true');
  else {
    await control.fill(String(value));
    if (type !== 'range') await control.press('Tab');
  }
}

/** The root of notebook cell `id` (it carries data-cell and data-status). */
export function cellLocator(page: Page, id: string): Locator {
  return page.locator(`[data-cell="${id}"]`);
}

/** Clicks the cell's Run button. */
export async function runCell(page: Page, id: string): Promise<void> {
  await cellLocator(page, id).getByTestId('cell-run').click();
}

/**
 * Waits until cell `id` shows `status` (default done; for done, also until its figures are drawn,
 * data-figures="drawn"). Fails early, with the cell's message, when it shows "error" instead
 * (unless that is the status awaited).
 */
export async function waitForCell(page: Page, id: string, status = 'done', { timeout = 120_000 } = {}): Promise<void> {
  const cell = cellLocator(page, id);
  const deadline = Date.now() + timeout;
  for (;;) {
    const now = await cell.getAttribute('data-status', { timeout: Math.max(1000, deadline - Date.now()) });
    if (now === status && (status !== 'done' || (await cell.getAttribute('data-figures')) === 'drawn')) return;
    if (now === 'error' && status !== 'error')
      throw new Error(
        `cell ${id} failed: ${await cell
          .getByTestId('cell-error')
          .innerText()
          .catch(() => '(no message)')}`,
      );
    if (Date.now() > deadline) throw new Error(`cell ${id} is "${now}" after ${timeout} ms, not "${status}"`);
    await page.waitForTimeout(100);
  }
}

/** Every data-status cell `id` has shown since the page loaded, in order (repeats collapsed). */
export async function cellStatuses(page: Page, id: string): Promise<string[]> {
  const all = await page.evaluate(
    () => (window as unknown as { __cellStatuses: { cell: string; status: string }[] }).__cellStatuses,
  );
  return all
    .filter((e) => e.cell === id)
    .map((e) => e.status)
    .filter((s, i, a) => i === 0 || s !== a[i - 1]);
}

export interface LongTask {
  name: string;
  startTime: number;
  duration: number;
}

/**
 * Main-thread tasks longer than `over` ms (default 200; the browser reports none under 50) that
 * started at or after `since` (the page's clock, see pageTime; default: since the page loaded).
 */
export async function longTasks(
  page: Page,
  { over = 200, since = 0 }: { over?: number; since?: number } = {},
): Promise<LongTask[]> {
  const all = await page.evaluate(() => (window as unknown as { __longTasks: LongTask[] }).__longTasks);
  return all.filter((t) => t.duration > over && t.startTime >= since);
}

/** The page's clock (performance.now(), ms), e.g. to ask for the long tasks of one run. */
export async function pageTime(page: Page): Promise<number> {
  return page.evaluate(() => performance.now());
}

/** The backend the header reports once the worker has chosen one: "WebGPU", "WebAssembly", … */
export async function activeBackend(page: Page, { timeout = 60_000 } = {}): Promise<string> {
  const header = page.getByTestId('active-backend');
  await header.and(page.locator('[data-state=ready], [data-state=error]')).waitFor({ timeout });
  return (await header.innerText()).trim();
}

/**
 * Whether TensorFlow.js has been evaluated on the page's main thread (tfjs-core keeps its engine
 * on globalThis._tfengine); the worker's copy does not count.
 */
export async function tfjsOnMainThread(page: Page): Promise<boolean> {
  return page.evaluate(() => '_tfengine' in globalThis);
}

/** Clicks something that downloads a file; returns its suggested name and contents. */
export async function downloadFrom(
  page: Page,
  click: () => Promise<unknown>,
): Promise<{ name: string; bytes: Buffer }> {
  const [download] = (await Promise.all([page.waitForEvent('download'), click()])) as [Download, unknown];
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}
