// The index page's thumbnails: one small standalone SVG per registered notebook, made from its
// real figure, with the model that made them named.
import { readFileSync, statSync } from 'node:fs';
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, defaultModel, loadExperiment } from '../../src/lib/experiments/catalog';
import { notebooks } from '../../src/notebooks/registry';
import { thumbnails } from '../../src/notebooks/thumbnails';

const root = new URL('../../', import.meta.url).pathname;

describe('notebook thumbnails', () => {
  it('name the model and checkpoint that made them', () => {
    expect(thumbnails.model).not.toBe('');
    expect(thumbnails.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(thumbnails.created).toMatch(/^\d{4}-\d\d-\d\d$/);
  });

  for (const n of notebooks)
    it(`${n.id}: a small SVG of one of its figures, 240 px wide, with alt text`, () => {
      const thumb = thumbnails.notebooks[n.id]!;
      expect(thumb.file).toBe(`thumbnails/${n.id}.svg`);
      expect(thumb.alt.length).toBeGreaterThan(20);
      const path = `${root}static/${thumb.file}`;
      expect(statSync(path).size).toBeLessThan(48 * 1024);
      const doc = new JSDOM(readFileSync(path, 'utf8'), { contentType: 'image/svg+xml' }).window.document;
      expect(doc.querySelector('parsererror')).toBeNull();
      expect(doc.documentElement.localName).toBe('svg');
      expect(doc.documentElement.getAttribute('width')).toBe('240');
      expect(doc.documentElement.getAttribute('viewBox')).toMatch(/^0 0 \d+ \d+$/);
      expect(doc.querySelector('script')).toBeNull();
    });

  it("were made from each experiment's current thumbnail plan, on the model its notebook opens with", async () => {
    for (const n of notebooks) {
      const plan = (await loadExperiment(n.id)).thumbnail;
      const made = thumbnails.notebooks[n.id]!;
      expect({ figure: made.figure, alt: made.alt, seed: made.seed, params: made.params }, n.id).toEqual({
        figure: plan.figure,
        alt: plan.alt,
        seed: plan.seed,
        params: plan.params,
      });
      expect(made.model ?? thumbnails.model, n.id).toBe(defaultModel(n.id));
    }
    expect(thumbnails.model).toBe(DEFAULT_MODEL);
  });
});
