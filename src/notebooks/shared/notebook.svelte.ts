// A notebook page's shared state: its seed, the model it opens with (named in the URL, or the
// zoo's default), its cells, the result cache, the URL it keeps up to date
// (`#/<id>?model=…&seed=…&<param>=…`, replaceState) and the whole-notebook report. NotebookView
// creates one per visit and hands it to the page.
import { untrack } from 'svelte';
import {
  defaultModel,
  isExperimentId,
  type ExperimentId,
  type ParamsOf,
  type ResultOf,
} from '../../lib/experiments/catalog';
import { formatParam, SEED_MAX } from '../../lib/experiments/params';
import { reportHtml } from '../../lib/experiments/export';
import { backendLabels } from '../../lib/runtime/backends';
import { openResultCache, type ResultCache } from '../../lib/runtime/cache';
import type { Session } from '../../lib/runtime/session';
import { notebookHash, parseNotebookHash, urlWithHash } from '../../lib/runtime/url-state';
import { CellController, type CellOptions } from './cell.svelte';
import { download } from './exports';

let shared: ResultCache | null = null;
/** The page's result cache (IndexedDB, or nothing when unavailable). */
export function sharedCache(): ResultCache {
  return (shared ??= openResultCache());
}

export interface NotebookInfo {
  id: string;
  title: string;
  /** e.g. "suppl. Fig. 8" */
  reproduces: string;
}

export interface NotebookEnv {
  cache?: ResultCache;
  location?: Pick<Location, 'hash' | 'pathname' | 'search' | 'href'>;
  history?: Pick<History, 'replaceState' | 'state'>;
}

export class Notebook {
  readonly id: string;
  readonly title: string;
  readonly reproduces: string;
  readonly session: Session;
  readonly cache: ResultCache;
  /** seeds every experiment with a `seed` parameter; in the URL as `seed=` */
  seed = $state(0);
  cells = $state.raw<CellController<unknown>[]>([]);
  /** which model the notebook opened with and why, or why it could not load one by itself */
  modelNotice = $state.raw<{ kind: 'info' | 'warn'; text: string } | null>(null);
  /** the last clear-cache outcome */
  cacheNotice = $state.raw<string | null>(null);
  /** parameters as the URL gave them when the notebook opened (cells read theirs at start) */
  readonly urlParams: Record<string, string>;

  readonly #location: NonNullable<NotebookEnv['location']>;
  readonly #history: NonNullable<NotebookEnv['history']>;
  readonly #requestedModel: string | null;
  #autoLoadDone = false;
  readonly #cleanup: () => void;

  constructor(
    session: Session,
    info: NotebookInfo,
    { cache = sharedCache(), location = globalThis.location, history = globalThis.history }: NotebookEnv = {},
  ) {
    this.session = session;
    this.id = info.id;
    this.title = info.title;
    this.reproduces = info.reproduces;
    this.cache = cache;
    this.#location = location;
    this.#history = history;
    const url = parseNotebookHash(location.hash);
    const mine = url?.notebook === info.id ? url : null;
    this.seed = mine?.seed !== null && mine?.seed !== undefined && mine.seed <= SEED_MAX ? mine.seed : 0;
    this.urlParams = mine?.params ?? {};
    this.#requestedModel = mine?.model ?? null;

    this.#cleanup = $effect.root(() => {
      $effect(() => this.#loadRequestedModel());
      $effect(() => {
        const hash = this.#hash();
        untrack(() => this.#writeUrl(hash));
      });
    });
  }

  /** Adds a cell, typed by its experiment's parameters and result; call it while the page component initialises. */
  cell<Id extends ExperimentId>(options: CellOptions<Id>): CellController<ResultOf<Id>, ParamsOf<Id>> {
    if (this.cells.some((c) => c.id === options.id))
      throw new Error(`notebook ${this.id} already has a cell "${options.id}"`);
    const cell = new CellController<ResultOf<Id>, ParamsOf<Id>>(this, options);
    this.cells = [...this.cells, cell as CellController<unknown>];
    return cell;
  }

  /** Sets the seed when it is one (an integer in [0, SEED_MAX]); anything else is ignored. */
  setSeed(seed: number): void {
    if (Number.isSafeInteger(seed) && seed >= 0 && seed <= SEED_MAX) this.seed = seed;
  }

  /** The active backend's name for people ("WebAssembly"), or why there is none. */
  get backendName(): string {
    const b = this.session.backend;
    return b.status === 'ready' ? backendLabels[b.report.active] : b.status === 'error' ? 'unavailable' : 'detecting';
  }

  async clearCache(): Promise<void> {
    await this.cache.clear();
    this.cacheNotice = this.cache.available
      ? 'Cache cleared: every cell computes again on its next run.'
      : 'There is no cache in this browser (IndexedDB is unavailable).';
  }

  /** The whole notebook as one self-contained HTML file. */
  report(doc: Document = document): string {
    const loaded = this.session.model.loaded;
    return reportHtml({
      title: this.title,
      reproduces: this.reproduces,
      model: loaded ? { name: loaded.name, hash: loaded.hash } : null,
      seed: this.seed,
      backend: this.backendName,
      url: this.#location.href,
      created: new Date().toISOString(),
      cells: this.cells.map((c) => ({
        title: c.title,
        status: c.state.status,
        params: c.state.result?.params ?? null,
        cost: c.cost?.description ?? null,
        elapsedMs: c.state.elapsedMs,
        figures: c.state.result ? c.figures(doc).figures : [],
      })),
    });
  }

  downloadReport(): void {
    download(`${this.id}-report.html`, this.report(), 'text/html');
  }

  /**
   * Once the backend and the zoo listing are ready: loads the zoo model the URL names, or, when it
   * names none and no model is loaded yet, this notebook's default, and says which.
   */
  #loadRequestedModel(): void {
    const { backend, zoo, model } = this.session;
    if (this.#autoLoadDone || backend.status !== 'ready' || zoo.status === 'loading' || model.loading) return;
    const named = this.#requestedModel;
    if (!named && model.loaded) return;
    this.#autoLoadDone = true;
    const want = named ?? (isExperimentId(this.id) ? defaultModel(this.id) : null);
    if (!want || model.loaded?.name === want) return;
    const inZoo = zoo.status === 'ready' && zoo.models.some((m) => m.name === want);
    if (!inZoo)
      this.modelNotice = named
        ? { kind: 'warn', text: `The link names model "${want}", which is not in the model zoo: load it below.` }
        : {
            kind: 'warn',
            text: `This notebook opens with the zoo's ${want}, which is not in this zoo: load a model below.`,
          };
    else {
      if (!named)
        this.modelNotice = {
          kind: 'info',
          text: `No model was named in the link, so the notebook opened with the zoo's ${want}. Pick another above.`,
        };
      untrack(() => void this.session.load({ name: want }));
    }
  }

  /** The hash this notebook's state reads as now. */
  #hash(): string {
    const params = { ...this.urlParams };
    for (const c of this.cells) for (const [k, v] of Object.entries(c.values ?? {})) params[k] = formatParam(v);
    const model = this.session.model.loaded?.name ?? this.#requestedModel;
    return notebookHash({ notebook: this.id, model, seed: this.seed, params });
  }

  #writeUrl(hash: string): void {
    const current = parseNotebookHash(this.#location.hash);
    if (current?.notebook !== this.id || this.#location.hash === hash) return;
    this.#history.replaceState(this.#history.state, '', urlWithHash(this.#location, hash));
  }

  destroy(): void {
    for (const c of this.cells) c.destroy();
    this.#cleanup();
  }
}
