// The notebooks the router knows: one per experiment in src/lib/experiments/catalog.ts, in its
// order, each a page loaded on demand. The record below must name a page for every experiment
// id (the type checker says which is missing); a route whose id is not in the catalog shows
// "not found".
import type { Component } from 'svelte';
import { catalog, type ExperimentId } from '../lib/experiments/catalog';
import type { Notebook } from './shared/notebook.svelte';

type PageModule = { default: Component<{ notebook: Notebook }> };

const pages: Record<ExperimentId, () => Promise<PageModule>> = {
  separation: () => import('./separation/Separation.svelte'),
  logdet: () => import('./logdet/Logdet.svelte'),
  sensitivity: () => import('./sensitivity/Sensitivity.svelte'),
  likelihood: () => import('./likelihood/Likelihood.svelte'),
  redundant: () => import('./redundant/Redundant.svelte'),
  guidance: () => import('./guidance/Guidance.svelte'),
  distill: () => import('./distill/Distill.svelte'),
};

export interface NotebookEntry {
  id: ExperimentId;
  /** page heading and link text */
  title: string;
  /** one sentence for the index page */
  summary: string;
  /** the figure of the paper it reproduces, e.g. "suppl. Fig. 8" */
  reproduces: string;
  /** the page, src/notebooks/<id>/<Name>.svelte, given its Notebook (seed, cells, URL state) */
  load: () => Promise<PageModule>;
}

export const notebooks: readonly NotebookEntry[] = catalog.map(({ id, title, summary, reproduces }) => ({
  id,
  title,
  summary,
  reproduces,
  load: pages[id],
}));
