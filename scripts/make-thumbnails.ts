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
import { slug } from '../src/lib/experiments/export';
import { useBackend } from '../src/node/backend';
import { notebooks, type NotebookId } from '../src/notebooks/registry';
import type { Thumbnails } from '../src/notebooks/thumbnails';

/** Which figure stands for each notebook, what it shows (alt text), and the small parameters that make it. */
const plans: Record<NotebookId, { figure: string; alt: string; params: string[]; seed: number; model?: string }> = {
  separation: {
    figure: 'grid', params: ['images=1', 'levels=5'], seed: 0,
    alt: 'The separation grid: one test digit decoded from the latent after each AF block with 0 to 100% noise, Partial (redundant channels only) beside Full (all channels).',
  },
  logdet: {
    figure: 'logdet-histogram', params: ['nTest=128', 'nSamples=16'], seed: 0,
    alt: 'Histogram of the flow\'s log-determinant for test images and samples, with the outlier thresholds marked.',
  },
  sensitivity: {
    figure: 'fid-heatmap', params: ['n=16', 'keep=0', 'table5=false'], seed: 0,
    alt: 'Heatmap of FID over mixture temperature T and Gaussian scale s, the paper\'s point outlined.',
  },
  likelihood: {
    figure: 'bits-map', params: ['n=128'], seed: 0,
    alt: 'Maps of bits per dimension on the patch grid: the total, its prior part and its flow part.',
  },
  redundant: {
    figure: 'grid', params: ['n=6', 'scales=0,0.4,1,2,4'], seed: 0,
    alt: 'A grid of samples: each row the same samples with the redundant channels\' spread scaled by s_R from 0 to 4.',
  },
  guidance: {
    figure: 'samples', params: ['n=20', 'keep=10', 'weights=0,2.5', 'batch=20'], seed: 0,
    alt: 'Rows of samples, one per guidance setting (unguided, naive CFG, resampling CFG), each column asking for one digit.',
  },
  distill: {
    figure: 'pairs', model: 'mnist-farmer-student', params: ['n=16', 'keep=8', 'repeats=1'], seed: 0,
    alt: 'The same latents decoded by the teacher\'s AF inverse and by the one-step student, with their difference.',
  },
};
/** drawn width on the index page, px */
const WIDTH = 240;

const { values: args } = parseArgs({ options: { model: { type: 'string', default: 'mnist-farmer' } } });
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

const made: Thumbnails = { model: args.model!, sha256: '', created: new Date().toISOString().slice(0, 10), notebooks: {} };
mkdirSync(outDir, { recursive: true });
for (const { id } of notebooks) {
  const plan = plans[id];
  const tmp = mkdtempSync(join(tmpdir(), `thumb-${id}-`));
  try {
    const t0 = performance.now();
    const model = plan.model ?? args.model!;
    const summary = await reproduce({ experiment: id, model, out: tmp, seed: plan.seed, params: plan.params, backend: 'wasm' });
    const svg = shrink(readFileSync(join(tmp, `${id}-${slug(plan.figure)}.svg`), 'utf8'));
    writeFileSync(join(outDir, `${id}.svg`), svg);
    const own = plan.model ? { model: plan.model, sha256: summary.model.hash } : {};
    if (!plan.model) {
      if (made.sha256 && made.sha256 !== summary.model.hash) throw new Error(`${args.model} changed while the thumbnails were made`);
      made.sha256 = summary.model.hash;
    }
    made.notebooks[id] = { file: `thumbnails/${id}.svg`, figure: plan.figure, alt: plan.alt, seed: plan.seed, params: Object.fromEntries(plan.params.map((p) => p.split('='))), ...own };
    console.log(`${id}: ${plan.figure}, ${(svg.length / 1024).toFixed(1)} KB, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
writeFileSync(join(root, 'src/notebooks/thumbnails.json'), JSON.stringify(made, null, 1) + '\n');
