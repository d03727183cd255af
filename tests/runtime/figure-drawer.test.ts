// The figure drawer with a fake experiment and a hand-driven clock: figures are built one by one
// and yield to the browser whenever a slice of work passes FIGURE_SLICE_MS; the new set replaces
// the old one all at once; a newer source stops an older drawing; a failing partial drawing keeps
// what is on show, a failing final one says why; the CSV flag follows the exported data.
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import type { Experiment, Figure } from '../../src/lib/experiments/types';
import { defineParams, integer } from '../../src/lib/experiments/params';
import { FIGURE_SLICE_MS, FigureDrawer, type Drawn, type FigureSource } from '../../src/lib/runtime/figure-drawer';

type R = { n: number; costMs: number; fail?: boolean };
type P = { k: number };
const doc = new JSDOM('<!doctype html><body></body>').window.document;

function setup() {
  let t = 0;
  const tasks: (() => void)[] = [];
  const shown: Partial<Drawn>[] = [];
  const measured: [number, number][] = [];
  const experiment: Experiment<P, R> = {
    id: 'logdet',
    title: 'fake',
    params: defineParams({ k: integer(0, 9, 0) }),
    needs: { featureNet: false, teacher: false },
    thumbnail: { figure: 'f0', alt: '', params: {}, seed: 0 },
    cost: () => ({ units: 1, description: '' }),
    run: async () => ({ n: 0, costMs: 0 }),
    toJSON: (r) => ({ rows: Array.from({ length: r.n }, (_, i) => ({ i })) }),
    *figures(r) {
      for (let i = 0; i < r.n; i++) {
        if (r.fail && i === 1) throw new Error('figure 1 failed');
        t += r.costMs; // building a figure takes this long
        yield { name: `f${i}`, node: doc.createElementNS('http://www.w3.org/2000/svg', 'svg') } satisfies Figure;
      }
    },
  };
  const drawer = new FigureDrawer<R, P>(
    'cell',
    {
      doc,
      now: () => t,
      nextTask: () => new Promise<void>((resolve) => tasks.push(resolve)),
      measure: (_name, start, end) => measured.push([start, end]),
    },
    (d) => shown.push(d),
  );
  const source = (value: R, partial = false): FigureSource<R, P> => ({ experiment, value, params: { k: 0 }, partial });
  /** runs queued tasks until the drawing settles */
  const settle = async () => {
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 0));
      const next = tasks.shift();
      if (!next) return;
      next();
    }
  };
  return { drawer, shown, measured, source, settle, tasks };
}

const names = (d: Partial<Drawn>) => d.view?.figures.map((f) => f.name);

describe('FigureDrawer', () => {
  it('builds every figure, yielding after each slice of FIGURE_SLICE_MS, and shows them all at once', async () => {
    const { drawer, shown, measured, source, settle } = setup();
    const done = drawer.draw(source({ n: 5, costMs: FIGURE_SLICE_MS / 2 }));
    await settle();
    await done;
    expect(shown[0]).toEqual({ drawing: true });
    const last = shown.at(-1)!;
    expect(names(last)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
    expect(last).toMatchObject({ hasTable: true, drawing: false, view: { partial: false, error: null } });
    expect(shown.filter((d) => d.view)).toHaveLength(1); // no half-drawn set was shown
    // 5 figures of half a slice each: a yield after every second one, every slice measured
    expect(measured.length).toBe(3);
    expect(measured.every(([a, b]) => b - a <= FIGURE_SLICE_MS)).toBe(true);
    expect(drawer.busyMs).toBe(5 * (FIGURE_SLICE_MS / 2));
  });

  it('a newer source stops an older drawing at its next yield', async () => {
    const { drawer, shown, source, settle } = setup();
    const old = drawer.draw(source({ n: 6, costMs: FIGURE_SLICE_MS }));
    await new Promise((r) => setTimeout(r, 0));
    const newer = drawer.draw(source({ n: 2, costMs: 1 }));
    await settle();
    await Promise.all([old, newer]);
    expect(shown.filter((d) => d.view).map(names)).toEqual([['f0', 'f1']]);
  });

  it('a failed final drawing says why; a failed partial one keeps what is shown; no source clears the view', async () => {
    const { drawer, shown, source, settle } = setup();
    let p = drawer.draw(source({ n: 2, costMs: 1 }));
    await settle();
    await p;
    p = drawer.draw(source({ n: 3, costMs: 1, fail: true }, true));
    await settle();
    await p;
    expect(shown.at(-1)).toMatchObject({ drawing: false, view: { error: null, partial: true } });
    expect(names(shown.at(-1)!)).toEqual(['f0', 'f1']);
    p = drawer.draw(source({ n: 3, costMs: 1, fail: true }));
    await settle();
    await p;
    expect(shown.at(-1)!.view!.error).toBe('figure 1 failed');
    await drawer.draw(null);
    expect(shown.at(-1)).toEqual({
      view: { figures: [], partial: false, error: null },
      hasTable: false,
      drawing: false,
    });
  });

  it('gives the figures on show for the report, or builds them at once', async () => {
    const { drawer, source, settle } = setup();
    const s = source({ n: 2, costMs: 1 });
    const p = drawer.draw(s);
    await settle();
    await p;
    const shownView = drawer.figuresOf(s, doc);
    expect(drawer.figuresOf(s, doc)).toBe(shownView);
    expect(drawer.figuresOf(source({ n: 3, costMs: 1 }), doc).figures.map((f) => f.name)).toEqual(['f0', 'f1', 'f2']);
  });
});
