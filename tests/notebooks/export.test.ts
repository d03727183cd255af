// Figure and data exports on jsdom documents: standalone SVG from a chart, from a Plot figure
// with a legend, and from an HTML image figure; JSON with typed arrays; CSV of the main table;
// and the self-contained HTML report.
import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { csvOf, figureSvg, jsonText, reportHtml, slug } from '../../src/lib/experiments/export';
import type { Figure } from '../../src/lib/experiments/types';

const doc = () => new JSDOM('<!doctype html><html><body></body></html>').window.document;
const parseSvg = (text: string) => new JSDOM(text, { contentType: 'image/svg+xml' }).window.document;
const points = [
  { x: 1, y: 2, group: 'a' },
  { x: 2, y: 3, group: 'b' },
];

describe('figureSvg', () => {
  it('writes a chart as a standalone SVG file that parses as XML, with its size', () => {
    const d = doc();
    const chart = Plot.plot({
      document: d,
      width: 300,
      height: 200,
      marks: [Plot.dot(points, { x: 'x', y: 'y' })],
    }) as SVGElement;
    const { svg, width, height } = figureSvg({ name: 'c', node: chart });
    expect([width, height]).toEqual([300, 200]);
    const parsed = parseSvg(svg);
    expect(parsed.documentElement.localName).toBe('svg');
    expect(parsed.querySelectorAll('circle').length).toBe(2);
  });

  it('takes the chart out of a Plot figure with a legend', () => {
    const d = doc();
    const node = Plot.plot({
      document: d,
      width: 320,
      height: 180,
      color: { legend: true },
      marks: [Plot.dot(points, { x: 'x', y: 'y', fill: 'group' })],
    }) as HTMLElement;
    expect(node.localName).toBe('figure');
    const { svg, width } = figureSvg({ name: 'legend', node });
    expect(width).toBe(320);
    expect(parseSvg(svg).querySelectorAll('circle').length).toBe(2);
  });

  it('wraps an HTML figure without a chart in a foreignObject', () => {
    const d = doc();
    const node = d.createElement('figure');
    node.innerHTML = '<table><tr><td>FID</td><td>12.5</td></tr></table><figcaption>Table 5 &amp; more</figcaption>';
    const { svg, width, height } = figureSvg({ name: 't', node });
    expect([width, height]).toEqual([800, 600]);
    const parsed = parseSvg(svg);
    expect(parsed.querySelector('foreignObject td')?.textContent).toBe('FID');
    expect(figureSvg({ name: 't', node }, { width: 400, height: 90 }).width).toBe(400);
  });
});

describe('data exports', () => {
  it('writes typed arrays as arrays in JSON', () => {
    expect(jsonText({ a: new Float32Array([1.5, 2]), b: new Uint8Array([3]), c: NaN })).toBe(
      '{"a":[1.5,2],"b":[3],"c":null}',
    );
  });

  it('writes the longest table of the data as CSV, quoting where needed', () => {
    const data = {
      meta: { rows: [{ k: 1 }] },
      test: {
        points: [
          { index: 0, logdet: 1.5, note: 'a, b' },
          { index: 1, logdet: -2, perBlock: [1, 2], note: 'say "hi"' },
        ],
      },
    };
    expect(csvOf(data)).toEqual({
      path: 'test.points',
      csv: 'index,logdet,note,perBlock\n0,1.5,"a, b",\n1,-2,"say ""hi""","[1,2]"\n',
    });
    expect(csvOf([{ a: 1 }])).toEqual({ path: '', csv: 'a\n1\n' });
    expect(csvOf({ a: 1, b: [1, 2] })).toBeNull();
    expect(slug('FID vs. T (grid)')).toBe('fid-vs-t-grid');
  });
});

describe('reportHtml', () => {
  it('inlines every figure and records parameters, model, seed and backend, escaped', () => {
    const d = doc();
    const chart = Plot.plot({ document: d, marks: [Plot.dot(points, { x: 'x', y: 'y' })] }) as SVGElement;
    const figures: Figure[] = [{ name: 'dots', node: chart }];
    const html = reportHtml({
      title: 'Information <separation>',
      reproduces: 'suppl. Fig. 8',
      model: { name: 'mnist-farmer', hash: 'ab'.repeat(32) },
      seed: 3,
      backend: 'WebAssembly',
      url: 'http://x/?backend=wasm#/separation?seed=3',
      created: '2026-01-01T00:00:00.000Z',
      cells: [
        {
          title: 'Grid',
          status: 'done',
          params: { alpha: 0.5, depths: 'all' },
          cost: '20 inversions',
          elapsedMs: 1500,
          figures,
        },
        { title: 'Curves', status: 'idle', params: null, cost: null, elapsedMs: null, figures: [] },
      ],
    });
    const page = new JSDOM(html).window.document;
    expect(page.title).toBe('Information <separation> — FARMER Workbench report');
    expect(page.querySelector('h1')?.textContent).toBe('Information <separation>');
    const facts = Object.fromEntries(
      [...page.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]),
    );
    expect(facts).toMatchObject({
      Seed: '3',
      Backend: 'WebAssembly',
      Model: `mnist-farmer (SHA-256 ${'ab'.repeat(8)}…)`,
    });
    const [grid, curves] = page.querySelectorAll('section.cell');
    expect(grid.querySelectorAll('svg circle').length).toBe(2);
    expect([...grid.querySelectorAll('.params tr')].map((r) => r.textContent)).toEqual(['alpha0.5', 'depthsall']);
    expect(grid.textContent).toContain('20 inversions · computed in 1.5 s');
    expect(curves.textContent).toContain('No result (idle).');
    expect(html).not.toMatch(/<script/);
  });
});
