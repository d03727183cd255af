// A notebook's view in the URL hash: `#/separation?model=mnist-farmer&seed=3&alpha=0.5`.
// `?backend=` stays in the query string before the hash (the shell reads it at start-up).

export interface NotebookUrlState {
  /** the notebook's route id */
  notebook: string;
  /** zoo name of the model; null when none is named */
  model: string | null;
  /** the notebook's seed; null when none is named */
  seed: number | null;
  /** every other query entry, as written (the experiments parse them) */
  params: Record<string, string>;
}

const reserved = new Set(['model', 'seed']);

/** `#/separation?model=m&seed=3&alpha=0.5` → its state; null for the home page or an empty hash. */
export function parseNotebookHash(hash: string): NotebookUrlState | null {
  const body = hash.replace(/^#/, '');
  const q = body.indexOf('?');
  const notebook = (q < 0 ? body : body.slice(0, q)).replace(/^\/+|\/+$/g, '');
  if (notebook === '') return null;
  const query = new URLSearchParams(q < 0 ? '' : body.slice(q + 1));
  const seedText = query.get('seed');
  const seed =
    seedText !== null && /^-?\d+$/.test(seedText) && Number.isSafeInteger(Number(seedText)) ? Number(seedText) : null;
  const params: Record<string, string> = {};
  for (const [k, v] of query) if (!reserved.has(k)) params[k] = v;
  return { notebook, model: query.get('model') || null, seed, params };
}

/** The hash for a state: model, seed, then the parameters in key order (stable URLs). */
export function notebookHash({ notebook, model, seed, params }: NotebookUrlState): string {
  const query = new URLSearchParams();
  if (model !== null) query.set('model', model);
  if (seed !== null) query.set('seed', String(seed));
  for (const k of Object.keys(params).sort()) if (!reserved.has(k)) query.set(k, params[k]);
  const s = query.toString();
  return `#/${notebook}${s ? `?${s}` : ''}`;
}

/** The URL to `replaceState` to: the same path and query (`?backend=`…), a new hash. */
export function urlWithHash(location: { pathname: string; search: string }, hash: string): string {
  return `${location.pathname}${location.search}${hash}`;
}
