// The index page's thumbnails: each notebook's headline figure, made by `farmer reproduce` (the
// same experiment code as the page) on a zoo model with small parameters, then shrunk into a
// small standalone SVG. Writes static/thumbnails/<id>.svg and src/notebooks/thumbnails.json (what
// made each one, for the page's caption).
// Run: npm run thumbnails [-- --model mnist-farmer] (wasm; a few minutes on 2 busy cores)
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { JSDOM } from 'jsdom';
import { reproduce } from '../src/cli/commands/reproduce';
import { DEFAULT_MODEL, catalog, defaultModel, loadExperiment } from '../src/lib/experiments/catalog';
import { slug } from '../src/lib/experiments/export';
import { formatParam } from '../src/lib/experiments/params';
import { useBackend } from '../src/node/backend';
import type { Thumbnails } from '../src/notebooks/thumbnails';

/** drawn width on the index page, px */
const WIDTH = 240;

const { values: args } = parseArgs({ options: { model: { type: 'string', default: DEFAULT_MODEL } } });
const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'static/thumbnails');
await useBackend('wasm');

/**
 * The figure as a thumbnail: drawn WIDTH px wide (its viewBox keeps the drawing), without what
 * only serves the pointer (tooltips, transparent hover targets).
 */
function shrink(svgText: string): string {
  const doc = new JSDOM(svgText, { contentType: 'image/svg+xml' }).window.document;
  const svg = doc.documentElement;
  const [w, h] = ['width', 'height'].map((a) => Number(svg.getAttribute(a)));
  if (!svg.getAttribute('viewBox')) svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('width', String(WIDTH));
  svg.setAttribute('height', String(Math.round((WIDTH * h) / w)));
  for (const el of [...svg.querySelectorAll('title')]) el.remove();
  for (const el of [...svg.querySelectorAll('rect[fill=transparent], rect[fill-opacity="0"]')]) el.remove();
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svg.outerHTML}\n`;
}

const made: Thumbnails = {
  model: args.model!,
  sha256: '',
  created: new Date().toISOString().slice(0, 10),
  notebooks: {},
};
mkdirSync(outDir, { recursive: true });
for (const { id } of catalog) {
  const plan = (await loadExperiment(id)).thumbnail;
  const own = defaultModel(id) !== DEFAULT_MODEL ? defaultModel(id) : null;
  const params = Object.entries(plan.params).map(([k, v]) => `${k}=${v}`);
  const tmp = mkdtempSync(join(tmpdir(), `thumb-${id}-`));
  try {
    const t0 = performance.now();
    const summary = await reproduce({
      experiment: id,
      model: own ?? args.model!,
      out: tmp,
      seed: plan.seed,
      params,
      backend: 'wasm',
    });
    const svg = shrink(readFileSync(join(tmp, `${id}-${slug(plan.figure)}.svg`), 'utf8'));
    writeFileSync(join(outDir, `${id}.svg`), svg);
    if (!own) {
      if (made.sha256 && made.sha256 !== summary.model.hash)
        throw new Error(`${args.model} changed while the thumbnails were made`);
      made.sha256 = summary.model.hash;
    }
    const used = Object.fromEntries(Object.keys(plan.params).map((k) => [k, formatParam(summary.params[k])]));
    made.notebooks[id] = {
      file: `thumbnails/${id}.svg`,
      figure: plan.figure,
      alt: plan.alt,
      seed: plan.seed,
      params: used,
      ...(own ? { model: own, sha256: summary.model.hash } : {}),
    };
    console.log(
      `${id}: ${plan.figure}, ${(svg.length / 1024).toFixed(1)} KB, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
writeFileSync(join(root, 'src/notebooks/thumbnails.json'), JSON.stringify(made, null, 2) + '\n');
