// One notebook cell: an experiment, the parameters its controls show, and its run state (driven
// only by cellReducer). It asks the cache first, re-runs cheap experiments by itself after a
// change (debounced), and runs expensive ones when asked. Components only read its fields and
// call its methods.
import { untrack } from 'svelte';
import type { AnyExperiment } from '../../lib/experiments/index';
import { loadExperiment } from '../../lib/experiments/index';
import type { ExperimentId, Figure, ImageInput } from '../../lib/experiments/types';
import { dimsOf } from '../../lib/farmer/config';
import type { FarmerModel } from '../../lib/farmer/model';
import { cacheKey } from '../../lib/runtime/cache';
import { cellReducer, inFlight, initialCellState, type CellAction, type CellState } from '../../lib/runtime/cell';
import { RunError, type LoadedModel, type ParamValue } from '../../lib/runtime/protocol';
import { coerceParam } from '../../lib/runtime/url-state';
import { csvOf, figureSvg, jsonText, slug } from '../../lib/experiments/export';
import { download, figurePng } from './exports';
import type { Notebook } from './notebook.svelte';

/** cost.units below which a cell re-runs by itself after a change. */
export const AUTO_RUN_UNITS = 2000;
/** how long a cheap cell waits after the last change before it re-runs, ms */
export const AUTO_RUN_DELAY_MS = 300;
/** partial results are drawn at most this often, ms */
const PARTIAL_INTERVAL_MS = 200;
/** drawing figures yields to the browser once a task of it has run this long, ms */
const FIGURE_SLICE_MS = 12;

export type Params = Record<string, ParamValue>;

export interface CellOptions {
  /** unique within the notebook: the cell's `data-cell`, cache key part and export file name */
  id: string;
  experiment: ExperimentId;
  /** heading; the experiment's title by default */
  title?: string;
  /** re-run by itself when cost.units is below this (default AUTO_RUN_UNITS); 0: only on Run */
  autoRunBelow?: number;
  /** an uploaded or drawn image to pass to the experiment, read reactively (null: none) */
  image?: () => ImageInput | null;
}

/** A result on show and the parameters it was computed with. */
export interface Shown {
  value: unknown;
  params: Params;
}

export interface FigureView {
  figures: Figure[];
  /** drawn from a partial result of the run in progress */
  partial: boolean;
  /** the experiment's figures() threw */
  error: string | null;
}

const NO_FIGURES: FigureView = { figures: [], partial: false, error: null };

/** What the figures are drawn from: the result on show, or the partial result of the run in progress. */
interface FigureSource {
  experiment: AnyExperiment;
  value: unknown;
  params: Params;
  partial: boolean;
}

/** A new task, so the browser can render and handle input in between. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const now = () => performance.now();

/** The model as the page knows it: configuration and sizes, no weights (those live in the worker). */
function shapeOnly(loaded: LoadedModel): FarmerModel {
  return { config: loaded.config, params: new Map(), dims: dimsOf(loaded.config) };
}

/** A short stable hash of an image, for cache keys (FNV-1a over pixels, shape and label). */
export function imageKey(image: ImageInput): string {
  let h = 0x811c9dc5;
  const mix = (b: number) => (h = Math.imul(h ^ b, 0x01000193) >>> 0);
  for (const v of [image.height, image.width, image.channels, (image.label ?? -1) + 1]) mix(v & 0xff), mix(v >>> 8);
  for (const p of image.pixels) mix(p);
  return `${image.height}x${image.width}x${image.channels}:${h.toString(16).padStart(8, '0')}`;
}

export class CellController {
  readonly id: string;
  readonly experimentId: ExperimentId;
  readonly notebook: Notebook;

  /** run state; change it only through #dispatch */
  state = $state.raw<CellState<Shown>>(initialCellState());
  experiment = $state.raw<AnyExperiment | null>(null);
  /** what the controls show: the experiment's parameters except the seed (null until model and experiment are known) */
  values = $state.raw<Params | null>(null);
  /** why the experiment module could not be loaded */
  loadError = $state.raw<string | null>(null);
  /** URL values that were refused, or defaults that failed */
  notice = $state.raw<string | null>(null);
  /** the clock elapsed time and ETA are shown against; ticks while a run is in flight */
  now = $state(now());
  /** the figures on show; drawn a few per task after each result (see #draw) */
  view = $state.raw<FigureView>(NO_FIGURES);
  /** the figures of a newer result are being drawn (`view` still shows the older ones) */
  drawing = $state.raw(false);
  /** the result on show has a table to write as CSV */
  hasTable = $state.raw(false);

  readonly #options: CellOptions;
  #shape: { hash: string; model: FarmerModel } | null = null;
  #abort: AbortController | null = null;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #partialTimer: ReturnType<typeof setTimeout> | undefined;
  #pendingPartial: { version: number; value: unknown } | null = null;
  /** what `view` was drawn from */
  #drawn: FigureSource | null = null;
  /** what `view` shows or is being drawn from */
  #target: FigureSource | null = null;
  /** counts figure drawings; a newer one stops an older one at its next yield */
  #drawing = 0;
  /** main-thread time the last drawing took, ms */
  #figureMs = 0;
  #destroyed = false;
  readonly #cleanup: () => void;

  /** the loaded model's configuration and sizes; null when none is loaded */
  readonly model = $derived.by(() => {
    const loaded = this.notebook.workbench.model.loaded;
    if (!loaded) return null;
    if (this.#shape?.hash !== loaded.hash) this.#shape = { hash: loaded.hash, model: shapeOnly(loaded) };
    return this.#shape.model;
  });
  readonly title = $derived.by(() => this.#options.title ?? this.experiment?.title ?? this.#options.id);
  /** the experiment takes a `seed` parameter: the notebook's seed */
  readonly seeded = $derived.by(() => {
    const e = this.experiment, m = this.model;
    try {
      return e !== null && m !== null && 'seed' in e.defaults(m);
    } catch {
      return false;
    }
  });
  /** the parameters a run would use, checked by the experiment */
  readonly parsed = $derived.by((): { ok: true; params: Params } | { ok: false; error: string } | null => {
    const e = this.experiment, m = this.model, v = this.values;
    if (!e || !m || !v) return null;
    try {
      return { ok: true, params: e.parseParams(this.seeded ? { ...v, seed: this.notebook.seed } : v, m) };
    } catch (err) {
      return { ok: false, error: messageOf(err) };
    }
  });
  readonly cost = $derived.by(() => {
    const e = this.experiment, m = this.model, p = this.parsed;
    if (!e || !m || !p?.ok) return null;
    try {
      return e.cost(p.params, m);
    } catch {
      return null;
    }
  });
  /** cheap enough to re-run by itself */
  readonly auto = $derived.by(() => this.cost !== null && this.cost.units < (this.#options.autoRunBelow ?? AUTO_RUN_UNITS));
  readonly image = $derived.by(() => this.#options.image?.() ?? null);
  /** what the figures should show now */
  readonly #figureSource = $derived.by((): FigureSource | null => {
    const e = this.experiment, s = this.state, parsed = this.parsed;
    const partial = s.status === 'running' && s.partial != null && parsed?.ok === true;
    const value = partial ? s.partial : s.result?.value;
    const params = partial ? (parsed as { params: Params }).params : s.result?.params;
    return e && value != null && params ? { experiment: e, value, params, partial } : null;
  });
  /** the cache key of what a run would compute now; null while that is not known or not valid */
  readonly key = $derived.by(() => {
    const p = this.parsed, hash = this.notebook.workbench.model.loaded?.hash;
    if (!p?.ok || !hash) return null;
    const { seed: _seed, ...rest } = p.params;
    const params = this.image ? { ...rest, image_input: imageKey(this.image) } : rest;
    return cacheKey({ modelHash: hash, cellId: this.id, params, seed: this.seeded ? this.notebook.seed : null });
  });

  constructor(notebook: Notebook, options: CellOptions) {
    this.notebook = notebook;
    this.#options = options;
    this.id = options.id;
    this.experimentId = options.experiment;
    loadExperiment(options.experiment).then(
      (e) => {
        if (!this.#destroyed) this.experiment = e;
      },
      (e) => {
        if (!this.#destroyed) this.loadError = messageOf(e);
      },
    );
    this.#cleanup = $effect.root(() => {
      // A new model or the experiment module arriving: fresh parameters and no result.
      $effect(() => {
        const e = this.experiment, hash = this.notebook.workbench.model.loaded?.hash;
        untrack(() => this.#init(e, hash));
      });
      // The parameters changed: mark the result stale, look in the cache, re-run if cheap.
      $effect(() => {
        const key = this.key;
        untrack(() => this.#onKey(key));
      });
      // A new result or partial result: draw its figures.
      $effect(() => {
        const source = this.#figureSource;
        untrack(() => void this.#draw(source));
      });
      // The clock for elapsed time and ETA.
      $effect(() => {
        if (!inFlight(this.state)) return;
        const t = setInterval(() => (this.now = now()), 250);
        return () => clearInterval(t);
      });
    });
  }

  #dispatch(action: CellAction<Shown>): void {
    this.state = cellReducer(this.state, action);
  }

  #init(e: AnyExperiment | null, hash: string | undefined): void {
    this.#stopInFlight();
    this.#dispatch({ type: 'reset' });
    const m = this.model;
    if (!e || !hash || !m) {
      this.values = null;
      return;
    }
    let defaults: Params;
    try {
      defaults = e.defaults(m);
    } catch (err) {
      this.notice = `this model cannot run ${e.title}: ${messageOf(err)}`;
      this.values = null;
      return;
    }
    const { seed: _seed, ...base } = defaults;
    const fromUrl: Params = { ...base };
    const url = this.notebook.urlParams;
    for (const k of Object.keys(base)) if (k in url) fromUrl[k] = coerceParam(url[k], base[k]);
    try {
      e.parseParams('seed' in defaults ? { ...fromUrl, seed: this.notebook.seed } : fromUrl, m);
      this.values = fromUrl;
      this.notice = null;
    } catch (err) {
      this.values = base;
      this.notice = `parameters from the URL were not used (${messageOf(err)})`;
    }
    // The reset above forgot the parameters' key; give it back even if the key did not change.
    this.#onKey(this.key);
  }

  #onKey(key: string | null): void {
    clearTimeout(this.#debounce);
    if (key === null) return;
    this.#dispatch({ type: 'params', key });
    if (this.state.status === 'done' && this.state.resultKey === key) return;
    void this.#fromCacheOrAuto(key);
  }

  async #fromCacheOrAuto(key: string): Promise<void> {
    const hit = await this.notebook.cache.get<unknown>(key);
    if (this.#destroyed || key !== this.key) return;
    if (hit) {
      this.#dispatch({ type: 'cached', key, result: { value: hit.result, params: hit.params as Params }, elapsedMs: hit.elapsedMs });
      if (this.state.resultKey === key) return;
    }
    if (this.auto) this.#debounce = setTimeout(() => void this.run(), AUTO_RUN_DELAY_MS);
  }

  /** Sets one parameter as a control changed it. */
  set(name: string, value: ParamValue): void {
    if (!this.values) return;
    this.values = { ...this.values, [name]: value };
  }

  /** Runs the experiment with the current parameters, replacing a run in flight. */
  async run(): Promise<void> {
    clearTimeout(this.#debounce);
    const e = this.experiment, p = this.parsed, key = this.key;
    if (!e || !p?.ok || key === null) return;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.#dispatch({ type: 'queue', at: now() });
    const version = this.state.version;
    const { seed: _seed, ...params } = p.params;
    const image = this.image;
    try {
      const out = await this.notebook.workbench.runExperiment(
        {
          experiment: e.id,
          params,
          ...(this.seeded ? { seed: this.notebook.seed } : {}),
          ...(image ? { image: { ...image, pixels: image.pixels.slice() } } : {}),
        },
        {
          signal: abort.signal,
          onStart: () => this.#dispatch({ type: 'start', version, at: now() }),
          onProgress: (done, total, label) => this.#dispatch({ type: 'progress', version, done, total, label }),
          onPartial: (value) => this.#partial(version, value),
        },
      );
      if (this.#destroyed) return;
      this.#dropPartials();
      this.#dispatch({ type: 'done', version, key, result: { value: out.result, params: out.params }, at: now() });
      void this.notebook.cache.put(key, { result: out.result, params: out.params, elapsedMs: out.elapsedMs, storedAt: Date.now() });
    } catch (err) {
      if (this.#destroyed || (err instanceof RunError && err.code === 'cancelled')) return;
      this.#dispatch({ type: 'error', version, message: messageOf(err), at: now() });
    } finally {
      if (this.#abort === abort) this.#abort = null;
    }
  }

  /** Stops the run in flight (or drops it from the queue); the previous result stays. */
  cancel(): void {
    this.#stopInFlight();
    this.#dispatch({ type: 'cancel' });
  }

  #stopInFlight(): void {
    clearTimeout(this.#debounce);
    this.#dropPartials();
    this.#abort?.abort();
    this.#abort = null;
  }

  /** Draws partial results at most every PARTIAL_INTERVAL_MS, always the newest. */
  #partial(version: number, value: unknown): void {
    this.#pendingPartial = { version, value };
    if (this.#partialTimer !== undefined) return;
    this.#flushPartial();
    // Slow figures are redrawn less often, so partial results never keep the main thread busy.
    this.#partialTimer = setTimeout(() => {
      this.#partialTimer = undefined;
      if (this.#pendingPartial) this.#flushPartial();
    }, Math.max(PARTIAL_INTERVAL_MS, 4 * this.#figureMs));
  }

  #flushPartial(): void {
    const p = this.#pendingPartial!;
    this.#pendingPartial = null;
    this.#dispatch({ type: 'partial', version: p.version, value: p.value });
  }

  #dropPartials(): void {
    clearTimeout(this.#partialTimer);
    this.#partialTimer = undefined;
    this.#pendingPartial = null;
  }

  /**
   * Draws the figures of `source` into `view`. experiment.figures() yields them one by one; the
   * drawing yields to the browser whenever a task of it has run FIGURE_SLICE_MS, so a slow set
   * of figures never blocks input and rendering for long. The new figures replace the old ones
   * all at once when the last is built; a newer source stops this drawing at its next yield.
   */
  async #draw(source: FigureSource | null): Promise<void> {
    const same = (a: FigureSource | null, b: FigureSource | null) => a === b || (!!a && !!b && a.value === b.value && a.params === b.params);
    if (same(source, this.#target)) return;
    this.#target = source;
    const job = ++this.#drawing;
    if (source && same(source, this.#drawn)) {
      this.drawing = false; // back to what is on show (e.g. a cancelled run's partial result was being drawn)
      return;
    }
    if (!source) {
      this.#drawn = null;
      [this.view, this.hasTable, this.drawing] = [NO_FIGURES, false, false];
      return;
    }
    this.drawing = true;
    await nextTask(); // the status and the page's text about the result update first
    const stale = () => this.#destroyed || job !== this.#drawing;
    if (stale()) return;
    const { experiment: e, value, params, partial } = source;
    const figures: Figure[] = [];
    let error: string | null = null, busy = 0, slice = now();
    const yieldIfLong = async () => {
      if (now() - slice < FIGURE_SLICE_MS) return true;
      busy += now() - slice;
      performance.measure?.(`figures ${this.id}`, { start: slice, end: now() });
      await nextTask();
      slice = now();
      return !stale();
    };
    try {
      for (const figure of e.figures(value, params, document)) {
        figures.push(figure);
        if (!(await yieldIfLong())) return;
      }
    } catch (err) {
      error = messageOf(err);
    }
    let table = false;
    if (!partial && !error)
      try {
        table = csvOf(e.toJSON(value, params)) !== null;
      } catch {
        table = false;
      }
    busy += now() - slice;
    performance.measure?.(`figures ${this.id}`, { start: slice, end: now() });
    this.#figureMs = busy;
    this.#drawn = source;
    this.view = error ? { figures: this.view.figures, partial, error: partial ? null : error } : { figures, partial, error: null };
    this.hasTable = table;
    this.drawing = false;
  }

  /**
   * The figures of the result on show, e.g. for the report: those on the page when they are
   * drawn, else built now (all at once) in `doc`.
   */
  figures(doc: Document = document): FigureView {
    const e = this.experiment, r = this.state.result;
    if (!e || !r) return NO_FIGURES;
    const drawn = this.#drawn;
    if (drawn && drawn.value === r.value && !drawn.partial) return this.view;
    try {
      return { figures: [...e.figures(r.value, r.params, doc)], partial: false, error: null };
    } catch (err) {
      return { figures: [], partial: false, error: messageOf(err) };
    }
  }

  /** The exported data of the result on show: JSON with the run's context, or CSV of its main table. */
  exportData(format: 'json' | 'csv'): void {
    const e = this.experiment, r = this.state.result;
    if (!e || !r) return;
    const data = e.toJSON(r.value, r.params);
    const base = `${this.notebook.id}-${slug(this.id)}`;
    if (format === 'csv') {
      const table = csvOf(data);
      if (table) download(`${base}${table.path ? `-${slug(table.path)}` : ''}.csv`, table.csv, 'text/csv');
      return;
    }
    const model = this.notebook.workbench.model.loaded;
    const doc = {
      notebook: this.notebook.id, cell: this.id, experiment: e.id, title: this.title,
      model: model ? { name: model.name, hash: model.hash } : null,
      seed: this.seeded ? r.params.seed : null, backend: this.notebook.backendName,
      params: r.params, data,
    };
    download(`${base}.json`, jsonText(doc, 1), 'application/json');
  }

  /** Saves one figure as SVG, or as PNG rendered from the SVG at twice its size. */
  async exportFigure(figure: Figure, format: 'svg' | 'png'): Promise<void> {
    const name = `${this.notebook.id}-${slug(this.id)}-${slug(figure.name)}`;
    if (format === 'svg') download(`${name}.svg`, figureSvg(figure).svg, 'image/svg+xml');
    else download(`${name}.png`, await figurePng(figure));
  }

  destroy(): void {
    this.#destroyed = true;
    this.#stopInFlight();
    this.#cleanup();
  }
}
