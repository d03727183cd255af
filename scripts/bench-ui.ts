// How long each notebook keeps the page's main thread busy while its cell computes and draws: the
// Long Tasks API's tasks (50 ms and more) from Run until the figures are drawn, in headless
// Chromium on the dev server, per notebook. A benchmark, not a test: the numbers depend on the
// machine and its load. Each notebook runs its experiment's small thumbnail parameters on the zoo
// model it opens with (src/lib/experiments/catalog.ts), WebAssembly unless --backend says otherwise.
// Run: npm run bench:ui [-- --backend wasm|webgpu|cpu] [--only separation,logdet] [--json]
import { parseArgs } from 'node:util';
import { catalog, defaultModel, loadExperiment, type ExperimentId } from '../src/lib/experiments/catalog';
import { isBackendName } from '../src/lib/runtime/protocol';
import { hasChromium, longTasks, pageTime, runCell, startApp, waitForCell } from '../tests/e2e/harness';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
if (!isBackendName(args.backend!))
  throw new Error(`--backend must be webgpu, webgl, wasm or cpu, not "${args.backend}"`);
if (!hasChromium()) throw new Error('bench:ui needs Chromium at /usr/bin/chromium');
const only = args.only ? (args.only.split(',') as ExperimentId[]) : null;

interface Row {
  notebook: ExperimentId;
  model: string;
  /** from Run to the drawn figures, s */
  seconds: number;
  /** main-thread tasks of 50 ms or more in that time */
  tasks: number;
  over200: number;
  longestMs: number;
  /** Σ (duration − 50 ms): the time input waited */
  blockingMs: number;
  /** the longest slice of figure drawing (the drawer's performance.measure entries), ms */
  figureSliceMs: number;
}

const app = await startApp();
const rows: Row[] = [];
try {
  for (const { id } of catalog) {
    if (only && !only.includes(id)) continue;
    const plan = (await loadExperiment(id)).thumbnail;
    const model = defaultModel(id);
    const query = new URLSearchParams({ model, seed: String(plan.seed), ...plan.params });
    const { page } = await app.open(`/?backend=${args.backend}#/${id}?${query}`);
    try {
      await page.getByTestId('loaded-model').getByText(model, { exact: true }).waitFor({ timeout: 120_000 });
      await page.getByTestId('cell-run').first().waitFor({ timeout: 60_000 });
      const since = await pageTime(page);
      await runCell(page, id);
      await waitForCell(page, id, 'done', { timeout: 600_000 });
      const seconds = ((await pageTime(page)) - since) / 1000;
      const tasks = await longTasks(page, { since, over: 0 });
      const slices = await page.evaluate(
        (t0) =>
          performance
            .getEntriesByType('measure')
            .filter((m) => m.name.startsWith('figures ') && m.startTime >= t0)
            .map((m) => m.duration),
        since,
      );
      rows.push({
        notebook: id,
        model,
        seconds,
        tasks: tasks.length,
        over200: tasks.filter((t) => t.duration > 200).length,
        longestMs: Math.max(0, ...tasks.map((t) => t.duration)),
        blockingMs: tasks.reduce((a, t) => a + t.duration - 50, 0),
        figureSliceMs: Math.round(Math.max(0, ...slices)),
      });
    } finally {
      await page.close();
    }
  }
} finally {
  await app.close();
}

if (args.json) console.log(JSON.stringify({ backend: args.backend, rows }));
else {
  console.log(
    `Main-thread long tasks from Run to drawn figures (${args.backend}; tasks ≥ 50 ms, blocking = Σ(duration − 50 ms))`,
  );
  console.log(
    'notebook      model                   run s  tasks  >200ms  longest ms  blocking ms  longest figure slice ms',
  );
  for (const r of rows)
    console.log(
      `${r.notebook.padEnd(13)} ${r.model.padEnd(22)} ${r.seconds.toFixed(1).padStart(6)} ${String(r.tasks).padStart(6)} ${String(r.over200).padStart(7)} ${String(r.longestMs).padStart(11)} ${String(r.blockingMs).padStart(12)} ${String(r.figureSliceMs).padStart(24)}`,
    );
}
