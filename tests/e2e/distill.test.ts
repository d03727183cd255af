// The distillation notebook in headless Chromium: a student checkpoint named in the link loads,
// the worker fetches the teacher its card names from the zoo (checked by SHA-256), the cell waits
// for Run, then draws teacher / student / difference strips, the timing bars and the agreement
// histogram, and reads them. A teacher whose bytes changed is refused with one message.
// TensorFlow.js stays in the worker (main-thread long tasks: npm run bench:ui).
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { readCheckpoint, encodeCheckpoint } from '../../src/lib/io/checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cellLocator,
  hasChromium,
  runCell,
  startApp,
  tfjsOnMainThread,
  waitForCell,
  writeTestCheckpoint,
  type App,
} from './harness';

/** A teacher (the harness's tiny 28×28 model) and a student file made from its weights, naming it. */
function pair(): { teacher: Buffer; student: Buffer } {
  const t = writeTestCheckpoint({ seed: 8 });
  const { config, card, weights } = readCheckpoint(t.bytes, 'teacher');
  const values = new Map<string, Float32Array>();
  for (const [name, v] of weights)
    values.set(name, name.startsWith('af.') ? v.values.map((x, i) => x + (i % 7 === 0 ? 0.01 : 0)) : v.values);
  const sha256 = createHash('sha256').update(t.bytes).digest('hex');
  const student = Buffer.from(
    encodeCheckpoint({ ...config, student: true }, values, {
      ...card,
      teacher: { name: 'teach28.safetensors', sha256, steps: 0 },
    }),
  );
  return { teacher: t.bytes, student };
}

async function routePair(page: Page, files: { teacher: Buffer; student: Buffer }): Promise<void> {
  const quiet = () => undefined;
  const listing = {
    models: [
      {
        name: 'teach28',
        file: 'teach28.safetensors',
        title: 'Teacher',
        dataset: 'mnist',
        description: 'Seeded random weights.',
      },
      {
        name: 'stud28',
        file: 'stud28.safetensors',
        title: 'Student',
        dataset: 'mnist',
        description: 'The teacher, perturbed, as a student.',
      },
    ],
  };
  await page.context().route('**/models/index.json', (r) => r.fulfill({ json: listing }).catch(quiet));
  await page
    .context()
    .route('**/models/teach28.safetensors', (r) =>
      r.fulfill({ body: files.teacher, contentType: 'application/octet-stream' }).catch(quiet),
    );
  await page
    .context()
    .route('**/models/stud28.safetensors', (r) =>
      r.fulfill({ body: files.student, contentType: 'application/octet-stream' }).catch(quiet),
    );
}

describe.skipIf(!hasChromium())('distillation notebook in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('loads the teacher the student names, runs on request and draws the comparison', async () => {
    const files = pair();
    const { page, errors } = await app.openRoute('/distill?model=stud28&seed=2&n=8&keep=4&repeats=1', {
      setup: (p) => routePair(p, files),
    });
    const cell = cellLocator(page, 'distill');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('stud28');
    expect(await cell.getAttribute('data-status')).not.toBe('running'); // runs only on request
    await runCell(page, 'distill');
    await waitForCell(page, 'distill');
    const pairs = cell.locator('[data-figure=pairs] svg');
    expect(await pairs.locator('image').count()).toBe(3);
    expect(await pairs.locator('text').allTextContents()).toEqual(
      expect.arrayContaining(['teacher (AF inverse)', 'student (one pass)', 'y = 3']),
    );
    expect(await cell.locator('[data-figure=timing] svg').count()).toBeGreaterThan(0);
    const reading = await page.getByTestId('distill-reading').innerText();
    expect(reading).toMatch(/AF inverse per image on wasm: teacher \d+\.\d ms, student \d+\.\d ms/);
    expect(reading).toMatch(/differ from the teacher's by \d+\.\d\d pixel levels/);
    expect(await tfjsOnMainThread(page)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses a teacher whose file is not the one the student was distilled from', async () => {
    const files = pair();
    const changed = Buffer.from(files.teacher);
    changed[changed.length - 1] ^= 1;
    const { page } = await app.openRoute('/distill?model=stud28&n=4&repeats=1', {
      setup: (p) => routePair(p, { ...files, teacher: changed }),
    });
    const cell = cellLocator(page, 'distill');
    await expect.poll(() => page.getByTestId('notebook-model').innerText(), { timeout: 60_000 }).toContain('stud28');
    await runCell(page, 'distill');
    await expect
      .poll(() => cell.innerText(), { timeout: 60_000 })
      .toMatch(/teach28 in .*index\.json \(sha256 [0-9a-f]{12}…\) is not the file this student was distilled from/);
    await page.close();
  });
});
