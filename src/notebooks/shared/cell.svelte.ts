// One notebook cell: an experiment, the parameters its controls show, and its run state. The
// logic lives in plain modules (src/lib/runtime: cell-params, cell-runner, figure-drawer, cell);
// this class holds it in Svelte state and wires the effects. Typed by its experiment: a page's
// `cell.result` is that experiment's result, with no casts.
import { untrack } from 'svelte';
import { loadExperiment, type ExperimentId } from '../../lib/experiments/catalog';
import type { ParamValue } from '../../lib/experiments/params';
import type { Cost, Experiment, Figure, ImageInput, Params } from '../../lib/experiments/types';
import type { FarmerModel } from '../../lib/farmer/model';
import { inFlight, initialCellState } from '../../lib/runtime/cell';
import {
  cardRecommendations,
  parseValues,
  runKey,
  shapeOnly,
  startingValues,
  type Parsed,
} from '../../lib/runtime/cell-params';
import { CellRunner, type RunnerState, type Shown } from '../../lib/runtime/cell-runner';
import { FigureDrawer, NO_FIGURES, type FigureSource, type FigureView } from '../../lib/runtime/figure-drawer';
import type { ExperimentRequest } from '../../lib/runtime/protocol';
import { exportData, exportFigure } from './cell-exports';
import type { Notebook } from './notebook.svelte';

/** cost.units below which a cell re-runs by itself after a change. */
export const AUTO_RUN_UNITS = 2000;

export interface CellOptions<Id extends ExperimentId> {
  /** unique within the notebook: the cell's `data-cell`, cache key part and export file name */
  id: string;
  experiment: Id;
  /** heading; the experiment's title by default */
  title?: string;
  /** re-run by itself when cost.units is below this (default AUTO_RUN_UNITS); 0: only on Run */
  autoRunBelow?: number;
  /** an uploaded or drawn image to pass to the experiment, read reactively (null: none) */
  image?: () => ImageInput | null;
}

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const now = () => performance.now();

export class CellController<R = unknown, P extends Params = Params> {
  readonly id: string;
  readonly experimentId: ExperimentId;
  readonly notebook: Notebook;

  /** run state; changed only through the runner (cellReducer) */
  state = $state.raw<RunnerState<R, P>>(initialCellState());
  experiment = $state.raw<Experiment<P, R> | null>(null);
  /** what the controls show: every parameter but the seed (null until model and experiment are known) */
  values = $state.raw<Record<string, ParamValue> | null>(null);
  /** why the experiment module could not be loaded */
  loadError = $state.raw<string | null>(null);
  /** values from the URL or the model card that were refused, or defaults that failed */
  notice = $state.raw<string | null>(null);
  /** the clock elapsed time and ETA are shown against; ticks while a run is in flight */
  now = $state(now());
  /** the figures on show; drawn a few per task after each result */
  view = $state.raw<FigureView>(NO_FIGURES);
  /** the figures of a newer result are being drawn (`view` still shows the older ones) */
  drawing = $state.raw(false);
  /** the result on show has a table to write as CSV */
  hasTable = $state.raw(false);

  readonly #options: CellOptions<ExperimentId>;
  readonly #runner: CellRunner<R, P>;
  readonly #drawer: FigureDrawer<R, P>;
  #shape: { hash: string; model: FarmerModel } | null = null;
  #destroyed = false;
  readonly #cleanup: () => void;

  /** the loaded model's configuration and sizes; null when none is loaded */
  readonly model = $derived.by(() => {
    const loaded = this.notebook.session.model.loaded;
    if (!loaded) return null;
    if (this.#shape?.hash !== loaded.hash) this.#shape = { hash: loaded.hash, model: shapeOnly(loaded.config) };
    return this.#shape.model;
  });
  readonly title = $derived.by(() => this.#options.title ?? this.experiment?.title ?? this.#options.id);
  /** the experiment takes a `seed` parameter: the notebook's seed */
  readonly seeded = $derived.by(() => this.experiment !== null && 'seed' in this.experiment.params.specs);
  /** the parameters a run would use, parsed once */
  readonly parsed = $derived.by((): Parsed<P> | null => {
    const e = this.experiment,
      m = this.model,
      v = this.values;
    return e && m && v ? parseValues(e, m, v, this.notebook.seed) : null;
  });
  readonly cost = $derived.by((): Cost | null => {
    const e = this.experiment,
      m = this.model,
      p = this.parsed;
    if (!e || !m || !p?.ok) return null;
    try {
      return e.cost(p.params, m);
    } catch {
      return null;
    }
  });
  /** cheap enough to re-run by itself */
  readonly auto = $derived.by(
    () => this.cost !== null && this.cost.units < (this.#options.autoRunBelow ?? AUTO_RUN_UNITS),
  );
  readonly image = $derived.by(() => this.#options.image?.() ?? null);
  /** the cache key of what a run would compute now; null while that is not known or not valid */
  readonly key = $derived.by(() => {
    const p = this.parsed,
      hash = this.notebook.session.model.loaded?.hash;
    return p?.ok && hash ? runKey(hash, this.id, p.params, this.seeded ? this.notebook.seed : null, this.image) : null;
  });
  /** the finished result on show (current or out of date), null otherwise */
  readonly result = $derived.by((): R | null =>
    this.state.status === 'done' || this.state.status === 'stale' ? (this.state.result?.value ?? null) : null,
  );
  /** what figures and readings show now: the partial result while running, else the last result */
  readonly shown = $derived.by((): R | null => {
    const s = this.state;
    return s.status === 'running' && s.partial != null ? s.partial : (s.result?.value ?? null);
  });
  /** what the figures should be drawn from now */
  readonly #figureSource = $derived.by((): FigureSource<R, P> | null => {
    const e = this.experiment,
      s = this.state,
      parsed = this.parsed;
    if (!e) return null;
    if (s.status === 'running' && s.partial != null && parsed?.ok)
      return { experiment: e, value: s.partial, params: parsed.params, partial: true };
    return s.result ? { experiment: e, value: s.result.value, params: s.result.params, partial: false } : null;
  });

  constructor(notebook: Notebook, options: CellOptions<ExperimentId>) {
    this.notebook = notebook;
    this.#options = options;
    this.id = options.id;
    this.experimentId = options.experiment;
    const timers = {
      setTimeout: (f: () => void, ms: number) => setTimeout(f, ms),
      clearTimeout: (t: unknown) => clearTimeout(t as number),
    };
    this.#runner = new CellRunner<R, P>(this, {
      cache: notebook.cache,
      runExperiment: (r, o) => notebook.session.runExperiment(r, o),
      now,
      ...timers,
    });
    this.#drawer = new FigureDrawer<R, P>(
      this.id,
      { doc: document, now, nextTask, measure: (name, start, end) => performance.measure?.(name, { start, end }) },
      (d) => {
        if (this.#destroyed) return;
        if (d.view) this.view = d.view;
        if (d.hasTable !== undefined) this.hasTable = d.hasTable;
        if (d.drawing !== undefined) this.drawing = d.drawing;
      },
    );
    (loadExperiment(options.experiment) as Promise<unknown> as Promise<Experiment<P, R>>).then(
      (e) => void (this.#destroyed || (this.experiment = e)),
      (e) => void (this.#destroyed || (this.loadError = e instanceof Error ? e.message : String(e))),
    );
    this.#cleanup = $effect.root(() => {
      // A new model or the experiment module arriving: fresh parameters and no result.
      $effect(() => {
        const e = this.experiment,
          hash = this.notebook.session.model.loaded?.hash;
        untrack(() => this.#init(e, hash));
      });
      // The parameters changed: mark the result stale, look in the cache, re-run if cheap.
      $effect(() => {
        const key = this.key;
        untrack(() => this.#runner.onKey(key));
      });
      // A new result or partial result: draw its figures.
      $effect(() => {
        const source = this.#figureSource;
        untrack(() => void this.#drawer.draw(source));
      });
      // The clock for elapsed time and ETA.
      $effect(() => {
        if (!inFlight(this.state)) return;
        const t = setInterval(() => (this.now = now()), 250);
        return () => clearInterval(t);
      });
    });
  }

  get figureMs(): number {
    return this.#drawer.busyMs;
  }

  /** The request a run would send now (the runner asks). */
  request(): ExperimentRequest | null {
    const e = this.experiment,
      p = this.parsed,
      image = this.image;
    if (!e || !p?.ok) return null;
    const { seed: _seed, ...params } = p.params;
    return {
      experiment: e.id,
      params,
      ...(this.seeded ? { seed: this.notebook.seed } : {}),
      ...(image ? { image: { ...image, pixels: image.pixels.slice() } } : {}),
    };
  }

  #init(e: Experiment<P, R> | null, hash: string | undefined): void {
    this.#runner.reset();
    const m = this.model,
      loaded = this.notebook.session.model.loaded;
    if (!e || !hash || !m || !loaded) {
      this.values = null;
      return;
    }
    const start = startingValues(
      e,
      m,
      { recommended: cardRecommendations(e, loaded.card), url: this.notebook.urlParams },
      this.notebook.seed,
    );
    this.values = start.values;
    this.notice = start.notice;
    // The reset above forgot the parameters' key; give it back even if the key did not change.
    this.#runner.onKey(this.key);
  }

  /** Sets one parameter as a control changed it. */
  set(name: string, value: ParamValue): void {
    if (this.values) this.values = { ...this.values, [name]: value };
  }

  run(): Promise<void> {
    return this.#runner.run();
  }

  /** Stops the run in flight (or drops it from the queue); the previous result stays. */
  cancel(): void {
    this.#runner.cancel();
  }

  /** The figures of the result on show, e.g. for the report: those on the page when drawn, else built now in `doc`. */
  figures(doc: Document = document): FigureView {
    const e = this.experiment,
      r = this.state.result;
    return e && r
      ? this.#drawer.figuresOf({ experiment: e, value: r.value, params: r.params, partial: false }, doc)
      : NO_FIGURES;
  }

  /** The exported data of the result on show: JSON with the run's context, or CSV of its main table. */
  exportData(format: 'json' | 'csv'): void {
    const e = this.experiment,
      r = this.state.result;
    if (e && r) exportData(this, e, r as Shown<R, P>, format);
  }

  /** Saves one figure as SVG, or as PNG rendered from the SVG at twice its size. */
  exportFigure(figure: Figure, format: 'svg' | 'png'): Promise<void> {
    return exportFigure(this, figure, format);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#runner.destroy();
    this.#drawer.destroy();
    this.#cleanup();
  }
}
