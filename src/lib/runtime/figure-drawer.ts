// Draws a cell's figures off the main thread's critical path: experiment.figures() yields them one
// by one, and the drawing yields to the browser whenever a task of it has run FIGURE_SLICE_MS, so
// a slow set of figures never blocks input and rendering for long. The new figures replace the
// old ones all at once when the last is built; a newer source stops an older drawing at its next
// yield.
import { csvOf } from '../experiments/export';
import type { Experiment, Figure, Params } from '../experiments/types';

/** drawing figures yields to the browser once a task of it has run this long, ms */
export const FIGURE_SLICE_MS = 12;

export interface FigureView {
  figures: Figure[];
  /** drawn from a partial result of the run in progress */
  partial: boolean;
  /** the experiment's figures() threw */
  error: string | null;
}

export const NO_FIGURES: FigureView = { figures: [], partial: false, error: null };

/** What the figures are drawn from: the result on show, or the partial result of the run in progress. */
export interface FigureSource<R, P extends Params> {
  experiment: Experiment<P, R>;
  value: R;
  params: P;
  partial: boolean;
}

/** What a drawing shows, as it changes. */
export interface Drawn {
  view: FigureView;
  /** the result on show has a table to write as CSV */
  hasTable: boolean;
  /** the figures of a newer source are being drawn (`view` still shows the older ones) */
  drawing: boolean;
}

export interface DrawerServices {
  doc: Document;
  now(): number;
  /** a new task, so the browser can render and handle input in between */
  nextTask(): Promise<void>;
  /** marks a slice of main-thread work, e.g. performance.measure (the long-task benchmark reads them) */
  measure?(name: string, start: number, end: number): void;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

function same<R, P extends Params>(a: FigureSource<R, P> | null, b: FigureSource<R, P> | null): boolean {
  return a === b || (!!a && !!b && a.value === b.value && a.params === b.params);
}

export class FigureDrawer<R, P extends Params> {
  /** main-thread time the last drawing took, ms */
  busyMs = 0;
  readonly #name: string;
  readonly #s: DrawerServices;
  readonly #show: (d: Partial<Drawn>) => void;
  #view: FigureView = NO_FIGURES;
  /** what the view was drawn from */
  #drawn: FigureSource<R, P> | null = null;
  /** what the view shows or is being drawn from */
  #target: FigureSource<R, P> | null = null;
  /** counts drawings; a newer one stops an older one at its next yield */
  #job = 0;
  #destroyed = false;

  constructor(name: string, services: DrawerServices, show: (d: Partial<Drawn>) => void) {
    this.#name = name;
    this.#s = services;
    this.#show = show;
  }

  async draw(source: FigureSource<R, P> | null): Promise<void> {
    if (same(source, this.#target)) return;
    this.#target = source;
    const job = ++this.#job;
    if (source && same(source, this.#drawn)) return this.#show({ drawing: false }); // back to what is on show
    if (!source) {
      this.#drawn = null;
      this.#view = NO_FIGURES;
      return this.#show({ view: NO_FIGURES, hasTable: false, drawing: false });
    }
    this.#show({ drawing: true });
    await this.#s.nextTask(); // the status and the page's text about the result update first
    const stale = () => this.#destroyed || job !== this.#job;
    if (stale()) return;
    const { experiment: e, value, params, partial } = source;
    const figures: Figure[] = [];
    let error: string | null = null,
      busy = 0,
      slice = this.#s.now();
    const endSlice = () => {
      const end = this.#s.now();
      busy += end - slice;
      this.#s.measure?.(`figures ${this.#name}`, slice, end);
    };
    try {
      for (const figure of e.figures(value, params, this.#s.doc)) {
        figures.push(figure);
        if (this.#s.now() - slice < FIGURE_SLICE_MS) continue;
        endSlice();
        await this.#s.nextTask();
        if (stale()) return;
        slice = this.#s.now();
      }
    } catch (err) {
      error = messageOf(err);
    }
    let hasTable = false;
    if (!partial && !error)
      try {
        hasTable = csvOf(e.toJSON(value, params)) !== null;
      } catch {
        hasTable = false;
      }
    endSlice();
    this.busyMs = busy;
    this.#drawn = source;
    // A failed partial drawing keeps the figures on show and says nothing: the final result decides.
    this.#view = error
      ? { figures: this.#view.figures, partial, error: partial ? null : error }
      : { figures, partial, error: null };
    this.#show({ view: this.#view, hasTable, drawing: false });
  }

  /** The figures of a finished result: those on show when they are drawn from it, else built now, all at once, in `doc`. */
  figuresOf(source: FigureSource<R, P>, doc: Document): FigureView {
    if (this.#drawn && this.#drawn.value === source.value && !this.#drawn.partial) return this.#view;
    try {
      return { figures: [...source.experiment.figures(source.value, source.params, doc)], partial: false, error: null };
    } catch (err) {
      return { figures: [], partial: false, error: messageOf(err) };
    }
  }

  destroy(): void {
    this.#destroyed = true;
  }
}
