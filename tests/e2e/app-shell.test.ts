// The app shell in headless Chromium against the Vite dev server: the worker selects the
// backend the URL asks for, the page explains the others, and the zoo shows its models, its
// empty state or a clear error.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/lib/farmer/config';
import { paramShapes } from '../../src/lib/farmer/params';
import { encodeCheckpoint } from '../../src/lib/io/checkpoint';
import { Rng } from '../../src/lib/util/random';
import { notebooks } from '../../src/notebooks/registry';
import { thumbnails } from '../../src/notebooks/thumbnails';
import { hasChromium, repoRoot, startApp, type App } from './harness';

const zoo = JSON.parse(readFileSync(`${repoRoot}/static/models/index.json`, 'utf8')) as {
  models: { name: string; title: string }[];
};

async function backendReported(page: Page): Promise<string> {
  const header = page.getByTestId('active-backend');
  await header.and(page.locator('[data-state=ready], [data-state=error]')).waitFor({ timeout: 45_000 });
  expect(await header.getAttribute('data-state')).toBe('ready');
  return (await header.innerText()).trim();
}

/** Each backend's row in the table: [status, why]. */
async function backendTable(page: Page): Promise<Record<string, [string, string]>> {
  const rows: Record<string, [string, string]> = {};
  for (const row of await page.locator('table.backends:not([data-testid=timing-table]) tbody tr').all())
    rows[(await row.getAttribute('data-backend'))!] = [
      (await row.getAttribute('data-state'))!,
      (await row.locator('.reason').innerText()).trim(),
    ];
  return rows;
}

async function expectZooShown(page: Page): Promise<void> {
  if (zoo.models.length === 0) {
    await expect.poll(() => page.getByTestId('zoo-empty').innerText()).toContain('No models in the zoo yet');
    expect(await page.getByTestId('zoo-empty').innerText()).toContain('npx --no -- farmer train');
  } else {
    const list = page.getByTestId('zoo-list');
    await list.waitFor();
    for (const m of zoo.models) {
      expect(await list.innerText()).toContain(m.title);
      await page.getByRole('button', { name: `Load model ${m.name}`, exact: true }).waitFor();
    }
  }
}

/** A small valid checkpoint (docs/model.md, "Checkpoint file") with seeded random weights, and its parameter count. */
function tinyCheckpoint(): { bytes: Buffer; parameters: number } {
  const config = parseConfig({
    image: { height: 4, width: 4, channels: 1 },
    patch_size: 2,
    num_classes: 0,
    af: {
      blocks: 2,
      layers_per_block: 1,
      width: 16,
      head_dim: 8,
      mlp_ratio: 2,
      class_conditional: false,
      soft_clip: 0,
    },
    prior: {
      kind: 'farmer',
      informative_dims: 2,
      cond_repeat: 1,
      final_permute: true,
      mixtures_informative: 2,
      mixtures_redundant: 2,
      ar: { layers: 1, width: 16, head_dim: 8, mlp_ratio: 2 },
    },
    dequantization: { kind: 'uniform' },
    label_dropout: 0,
  });
  const rng = new Rng(3);
  const values = new Map<string, Float32Array>();
  let parameters = 0;
  for (const [name, shape] of paramShapes(config)) {
    const v = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.02 * rng.normal());
    values.set(name, v);
    parameters += v.length;
  }
  const card = { dataset: 'mnist', steps: 120, time_s: 3720, seed: 3, metrics: {}, weights: 'random, for tests' };
  return { bytes: Buffer.from(encodeCheckpoint(config, values, card)), parameters };
}

describe.skipIf(!hasChromium())('app shell in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('?backend=wasm runs on WebAssembly and says why the others were not tried', async () => {
    const { page, errors } = await app.open('/?backend=wasm');
    expect(await backendReported(page)).toBe('WebAssembly');
    const rows = await backendTable(page);
    expect(rows.wasm).toEqual(['active', expect.stringMatching(/verified/)]);
    for (const name of ['webgpu', 'webgl', 'cpu'])
      expect(rows[name]).toEqual(['skipped', 'not tried: ?backend=wasm was requested and works']);
    expect(await page.getByTestId('backend-summary').innerText()).toContain('forced with ?backend=wasm');
    // the dev server sends COOP/COEP: isolated, so WebAssembly runs on as many threads as it chose
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.getByTestId('backend-environment').innerText()).toMatch(
      new RegExp(`^The page is cross-origin isolated, so WebAssembly may use threads: it runs on \\d+ threads?\\.$`),
    );
    await expectZooShown(page);
    expect(await page.getByTestId('loaded-model').innerText()).toBe('none loaded');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a page served without COOP/COEP says it is not isolated and that WebAssembly runs on one thread', async () => {
    const { page, errors } = await app.open('/?backend=wasm', {
      setup: (p) =>
        p.route(
          (url) => url.pathname === '/',
          async (route) => {
            const response = await route.fetch();
            const headers = { ...response.headers() };
            delete headers['cross-origin-opener-policy'];
            delete headers['cross-origin-embedder-policy'];
            await route.fulfill({ response, headers });
          },
        ),
    });
    expect(await backendReported(page)).toBe('WebAssembly');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(await page.getByTestId('backend-environment').innerText()).toMatch(
      /^The page is not cross-origin isolated .* so WebAssembly runs on one thread/s,
    );
    // The dev server's own client (Vite, hmr off) still tries its websocket, which a rewritten,
    // non-isolated document is refused: that noise aside, nothing failed.
    expect(errors.filter((e) => !/websocket/i.test(e))).toEqual([]);
    await page.close();
  });

  it('?backend=webgpu runs on the WebGPU adapter Chromium exposes', async () => {
    const { page, errors } = await app.open('/?backend=webgpu');
    expect(await backendReported(page)).toBe('WebGPU');
    const rows = await backendTable(page);
    expect(rows.webgpu).toEqual(['active', expect.stringMatching(/verified on adapter/)]);
    for (const name of ['webgl', 'wasm', 'cpu']) expect(rows[name][0]).toBe('skipped');
    expect(await page.getByTestId('backend-environment').innerText()).toMatch(
      /cross-origin isolated.*WebAssembly is not the active backend\./s,
    );
    await expectZooShown(page);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a missing or malformed model index is reported as such, with a retry button', async () => {
    // The worker's fetch of the index, answered three ways in turn.
    const answers = [
      { status: 404, body: 'not here', contentType: 'text/plain' },
      { status: 200, body: '{"models": [', contentType: 'application/json' },
      { status: 200, body: '{"models": [{"name": "x"}]}', contentType: 'application/json' },
    ];
    let served = 0;
    const { page, errors } = await app.open('/?backend=cpu', {
      setup: (p) =>
        p
          .context()
          .route('**/models/index.json', (route) => route.fulfill(answers[Math.min(served++, answers.length - 1)])),
    });
    const error = page.getByTestId('zoo-error');
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('not-found');
    expect(await error.innerText()).toMatch(/The model index is missing[\s\S]*HTTP 404/);

    await page.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => error.getAttribute('data-code')).toBe('malformed');
    expect(await error.innerText()).toMatch(/The model index is malformed[\s\S]*not valid JSON/);

    await page.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => error.innerText()).toMatch(/models\[0\]\.file must be a non-empty string/);
    // The 404 is the only console error: Chromium logs the failed fetch itself.
    expect(errors.filter((e) => !/404/.test(e))).toEqual([]);
    await page.close();
  });

  it('loads a zoo model with its button and a checkpoint file with the file picker', async () => {
    const { bytes, parameters } = tinyCheckpoint();
    const listing = {
      models: [
        {
          name: 'tiny',
          file: 'tiny.safetensors',
          title: 'Tiny test model',
          dataset: 'mnist',
          description: 'Random weights.',
          metrics: { bpd_test: 7.25, bpd_n: 64, 'fid_mnist-cnn': 812.5, eval_n: 32 },
        },
      ],
    };
    const { page, errors } = await app.open('/?backend=cpu', {
      setup: async (p) => {
        await p.context().route('**/models/index.json', (r) => r.fulfill({ json: listing }));
        await p
          .context()
          .route('**/models/tiny.safetensors', (r) =>
            r.fulfill({ body: bytes, contentType: 'application/octet-stream' }),
          );
      },
    });
    await backendReported(page);
    expect(await page.getByTestId('zoo-list').innerText()).toMatch(
      /Tiny test model[\s\S]*tiny · mnist[\s\S]*Random weights\./,
    );
    expect(await page.getByTestId('zoo-metrics').innerText()).toMatch(/test BPD\s*7\.250\s*FID\s*812\.5/);
    expect(await page.getByTestId('zoo-metrics').locator('div').first().getAttribute('title')).toBe('n = 64');
    await page.getByRole('button', { name: 'Load model tiny' }).click();
    await expect.poll(() => page.getByTestId('loaded-model').innerText()).toBe('tiny');
    expect(await page.getByTestId('model-panel').innerText()).toContain(new Intl.NumberFormat('en').format(parameters));
    await page.getByTestId('model-card').locator('summary').click();
    expect(await page.getByTestId('model-card').innerText()).toMatch(
      /card: dataset mnist, 120 steps \(1 h 02 min\), seed 3\s+weights: random, for tests/,
    );
    expect(await page.getByRole('button', { name: 'Load model tiny' }).innerText()).toBe('Loaded');

    const picker = page.getByLabel('Or open a .safetensors checkpoint file');
    await picker.setInputFiles({
      name: 'broken.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('not a checkpoint'),
    });
    await page.getByTestId('model-error').waitFor();
    expect(await page.getByTestId('model-error').innerText()).toMatch(/^could not load broken\.safetensors: /);
    expect(await page.getByTestId('loaded-model').innerText()).toBe('tiny');

    await picker.setInputFiles({ name: 'mine.safetensors', mimeType: 'application/octet-stream', buffer: bytes });
    await expect.poll(() => page.getByTestId('loaded-model').innerText()).toBe('mine.safetensors');
    expect(await page.getByTestId('model-error').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('without ?backend= times a loaded model on each backend that works, shows the times and the choice, and reuses them on the next visit', async () => {
    const { bytes } = tinyCheckpoint();
    const listing = {
      models: [
        {
          name: 'tiny',
          file: 'tiny.safetensors',
          title: 'Tiny test model',
          dataset: 'mnist',
          description: 'Random weights.',
        },
      ],
    };
    const { page, errors } = await app.open('/', {
      setup: async (p) => {
        await p.context().route('**/models/index.json', (r) => r.fulfill({ json: listing }));
        await p
          .context()
          .route('**/models/tiny.safetensors', (r) =>
            r.fulfill({ body: bytes, contentType: 'application/octet-stream' }),
          );
      },
    });
    await backendReported(page);
    expect(await page.getByTestId('backend-timings').innerText()).toContain('Once a model is loaded');
    const loadAndRead = async () => {
      await page.getByRole('button', { name: 'Load model tiny' }).click();
      await page.getByTestId('backend-choice').waitFor({ timeout: 60_000 });
      const rows: Record<string, string[]> = {};
      for (const row of await page.getByTestId('timing-table').locator('tbody tr').all())
        rows[(await row.getAttribute('data-timing'))!] = (await row.locator('td').allInnerTexts()).map((t) => t.trim());
      return { choice: await page.getByTestId('backend-choice').innerText(), rows };
    };
    // headless Chromium's WebGPU and WebGL adapters are software ones, skipped under auto: WebAssembly alone is timed
    const first = await loadAndRead();
    expect(first.choice).toMatch(/For tiny: forward passes on WebAssembly, sampling on WebAssembly \(timed just now/);
    expect(Object.keys(first.rows)).toEqual(['wasm']);
    const [forward, step, runs] = first.rows.wasm;
    expect(Number(forward)).toBeGreaterThan(0);
    expect(Number(step)).toBeGreaterThan(0);
    expect(runs).toBe('forward passes, sampling');
    await page.reload();
    await backendReported(page);
    const second = await loadAndRead();
    expect(second.choice).toMatch(/kept in this browser/);
    expect(second.rows.wasm.slice(0, 2)).toEqual(first.rows.wasm.slice(0, 2));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('loads a checkpoint dropped anywhere on the page, and keeps the model when a dropped file is bad', async () => {
    const { bytes } = tinyCheckpoint();
    const { page, errors } = await app.open('/?backend=cpu');
    await backendReported(page);
    const dropFile = async (name: string, data: number[]) => {
      const transfer = await page.evaluateHandle(
        ([n, d]) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(d as number[])], n as string, { type: 'application/octet-stream' }));
          return dt;
        },
        [name, data] as const,
      );
      await page.dispatchEvent('main', 'dragover', { dataTransfer: transfer });
      await page.getByTestId('drop-overlay').waitFor();
      await page.dispatchEvent('main', 'drop', { dataTransfer: transfer });
    };
    await dropFile('dropped.safetensors', Array.from(bytes));
    await expect.poll(() => page.getByTestId('loaded-model').innerText()).toBe('dropped.safetensors');
    expect(await page.getByTestId('drop-overlay').count()).toBe(0);
    await dropFile('notes.txt', Array.from(Buffer.from('hello')));
    await page.getByTestId('model-error').waitFor();
    expect(await page.getByTestId('model-error').innerText()).toMatch(/^could not load notes\.txt: /);
    expect(await page.getByTestId('loaded-model').innerText()).toBe('dropped.safetensors');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an unknown route says "not found" and links back home', async () => {
    const { page, errors } = await app.open('/?backend=cpu#/no-such-page');
    const heading = page.getByRole('heading', { name: 'Page not found' });
    await heading.waitFor();
    expect(await page.locator('main').innerText()).toContain('#/no-such-page');
    await page.getByRole('link', { name: 'Back to the workbench home' }).click();
    await page.getByRole('heading', { name: 'Compute backend' }).waitFor();
    expect(await heading.count()).toBe(0);
    // The header stays, with the backend, on every route.
    expect(await backendReported(page)).toBe('CPU (plain JS)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the index lists every notebook with its purpose and a thumbnail of its figure, saying which model made them', async () => {
    const { page, errors } = await app.open('/?backend=cpu');
    await backendReported(page);
    for (const n of notebooks) {
      const item = page.locator(`.notebook-index li[data-notebook=${n.id}]`);
      expect(await item.getByRole('link', { name: n.title }).getAttribute('href')).toBe(`#/${n.id}`);
      expect(await item.innerText()).toContain(n.summary);
      const img = item.getByRole('img');
      expect(await img.getAttribute('alt')).toBe(thumbnails.notebooks[n.id]!.alt);
      await expect
        .poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth))
        .toBeGreaterThan(0);
    }
    expect(await page.getByTestId('thumbnail-caption').innerText()).toContain(
      `zoo model ${thumbnails.model} (checkpoint SHA-256 ${thumbnails.sha256.slice(0, 12)}`,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('every control has an accessible name', async () => {
    const { page } = await app.open('/?backend=cpu');
    await backendReported(page);
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button, select, input, a[href]')]
        .filter((el) => {
          const labelled =
            el.getAttribute('aria-label') || (el as HTMLInputElement).labels?.length || el.textContent?.trim();
          return !labelled;
        })
        .map((el) => el.outerHTML),
    );
    expect(unnamed).toEqual([]);
    await page.close();
  });
});
