// The notebooks the router knows. Each notebook is one lazily loaded page under src/notebooks/;
// a route whose id is not registered here shows "not found".
import type { Component } from 'svelte';
import type { Workbench } from '../app/workbench.svelte';
import type { Notebook } from './shared/notebook.svelte';

/** Route ids reserved for the paper's experiments (paper-notes.md). */
export type NotebookId = 'separation' | 'logdet' | 'sensitivity' | 'likelihood' | 'redundant' | 'guidance' | 'distill';

export interface NotebookEntry {
  id: NotebookId;
  /** page heading and link text */
  title: string;
  /** one sentence for the index page */
  summary: string;
  /** the figure of the paper it reproduces, e.g. "suppl. Fig. 8" */
  reproduces: string;
  /** the page: src/notebooks/<id>/Page.svelte, given the workbench and its Notebook (seed, cells, URL state) */
  load: () => Promise<{ default: Component<{ workbench: Workbench; notebook: Notebook }> }>;
}

export const notebooks: readonly NotebookEntry[] = [
  { id: 'separation', title: 'Information separation in the AF', summary: 'Noise the redundant or all channels of the latent after each AF block and see how much of the image survives.', reproduces: 'suppl. Fig. 8', load: () => import('./separation/Separation.svelte') },
  { id: 'logdet', title: 'Logdet outliers', summary: 'Measure the flow’s log-determinant of test images and samples, flag outliers robustly, and test whether a large logdet goes with blur.', reproduces: 'suppl. Fig. 9', load: () => import('./logdet/Logdet.svelte') },
  { id: 'sensitivity', title: 'Decoupled sampling: temperature and scale', summary: 'Sweep the mixture temperature T and the Gaussian scale s of unguided sampling, score each point with FID and IS, and compare FID with and without CFG.', reproduces: 'suppl. Fig. 7 and Table 5', load: () => import('./sensitivity/Sensitivity.svelte') },
  { id: 'likelihood', title: 'Likelihood in bits per dimension', summary: 'Measure test BPD, split it into the AR prior’s informative and redundant channels and the flow’s log-determinant, map where on the image the bits go, and compare with independent-pixel baselines.', reproduces: 'suppl. Table 6', load: () => import('./likelihood/Likelihood.svelte') },
  { id: 'redundant', title: 'Redundant variance', summary: 'Draw the same samples with the redundant GMM’s spread scaled from 0 to 4 and see what the redundant channels carry: structure, colour or detail.', reproduces: 'v2 Fig. 7', load: () => import('./redundant/Redundant.svelte') },
  { id: 'guidance', title: 'Guidance: naive and resampling CFG', summary: 'Guide the GMM tokens towards a class at several weights w with JetFormer’s naive rejection CFG and FARMER’s resampling CFG, and score each setting with FID, IS and how often a classifier reads the asked class.', reproduces: 'Algorithm 1, ablation Table 2', load: () => import('./guidance/Guidance.svelte') },
  { id: 'distill', title: 'One-step distillation', summary: 'Decode the same latents with the teacher’s sequential AF inverse and the distilled student’s one pass per block: how close the images are, FID and IS of both, and how much faster the student is.', reproduces: 'Algorithm 2', load: () => import('./distill/Distill.svelte') },
];
