// The one list of experiments. Everything else that names them derives from it: the id type, the
// notebook routes and home page (src/notebooks/registry.ts), the worker, `farmer reproduce` and
// the thumbnails script. Each entry's module, src/lib/experiments/<id>/index.ts, is imported
// only when the experiment is needed (the page loads it for its parameters and figures, the
// worker and the CLI to run it).
import type { AnyExperiment, Experiment, Params } from './types';

export const catalog = [
  {
    id: 'separation',
    title: 'Information separation in the AF',
    summary:
      'Noise the redundant or all channels of the latent after each AF block and see how much of the image survives.',
    reproduces: 'suppl. Fig. 8',
    load: () => import('./separation/index'),
  },
  {
    id: 'logdet',
    title: 'Logdet outliers',
    summary:
      'Measure the flow’s log-determinant of test images and samples, flag outliers robustly, and test whether a large logdet goes with blur.',
    reproduces: 'suppl. Fig. 9',
    load: () => import('./logdet/index'),
  },
  {
    id: 'sensitivity',
    title: 'Decoupled sampling: temperature and scale',
    summary:
      'Sweep the mixture temperature T and the Gaussian scale s of unguided sampling, score each point with FID and IS, and compare FID with and without CFG.',
    reproduces: 'suppl. Fig. 7 and Table 5',
    load: () => import('./sensitivity/index'),
  },
  {
    id: 'likelihood',
    title: 'Likelihood in bits per dimension',
    summary:
      'Measure test BPD, split it into the AR prior’s informative and redundant channels and the flow’s log-determinant, map where on the image the bits go, and compare with independent-pixel baselines.',
    reproduces: 'suppl. Table 6',
    /** BPD is a likelihood only for uniform dequantization: the zoo's likelihood model */
    model: 'mnist-farmer-bpd',
    load: () => import('./likelihood/index'),
  },
  {
    id: 'redundant',
    title: 'Redundant variance',
    summary:
      'Draw the same samples with the redundant GMM’s spread scaled from 0 to 4 and see what the redundant channels carry: structure, colour or detail.',
    reproduces: 'v2 Fig. 7',
    load: () => import('./redundant/index'),
  },
  {
    id: 'guidance',
    title: 'Guidance: naive and resampling CFG',
    summary:
      'Guide the GMM tokens towards a class at several weights w with JetFormer’s naive rejection CFG and FARMER’s resampling CFG, and score each setting with FID, IS and how often a classifier reads the asked class.',
    reproduces: 'Algorithm 1, ablation Table 2',
    load: () => import('./guidance/index'),
  },
  {
    id: 'distill',
    title: 'One-step distillation',
    summary:
      'Decode the same latents with the teacher’s sequential AF inverse and the distilled student’s one pass per block: how close the images are, FID and IS of both, and how much faster the student is.',
    reproduces: 'Algorithm 2',
    /** a distilled student: its card names the teacher, fetched with it */
    model: 'mnist-farmer-student',
    load: () => import('./distill/index'),
  },
] as const;

export type CatalogEntry = (typeof catalog)[number];

/** The zoo model a notebook opens with when its link names none, and the thumbnails are made from. */
export const DEFAULT_MODEL = 'mnist-farmer';

export function defaultModel(id: ExperimentId): string {
  const entry = catalogEntry(id);
  return 'model' in entry ? entry.model : DEFAULT_MODEL;
}
export type ExperimentId = CatalogEntry['id'];

/** Every experiment id, in the order the home page lists them. */
export const experimentIds: readonly ExperimentId[] = catalog.map((e) => e.id);

export function isExperimentId(v: unknown): v is ExperimentId {
  return typeof v === 'string' && (experimentIds as readonly string[]).includes(v);
}

export function catalogEntry(id: ExperimentId): CatalogEntry {
  return catalog.find((e) => e.id === id)!;
}

type ExperimentOf<Id extends ExperimentId> = Awaited<
  ReturnType<Extract<CatalogEntry, { id: Id }>['load']>
>['experiment'];
/** The parsed parameters of experiment `Id`. */
export type ParamsOf<Id extends ExperimentId> =
  ExperimentOf<Id> extends Experiment<infer P extends Params, unknown> ? P : Params;
/** The result of experiment `Id`. */
export type ResultOf<Id extends ExperimentId> = ExperimentOf<Id> extends Experiment<Params, infer R> ? R : unknown;

const loaded = new Map<ExperimentId, Promise<AnyExperiment>>();

/**
 * Experiment `id`, its module imported once. Rejects for an unknown id, a module that fails to
 * load, or one that does not export `experiment` with this id.
 */
export function loadExperiment<Id extends ExperimentId>(id: Id): Promise<ExperimentOf<Id>>;
export function loadExperiment(id: ExperimentId): Promise<AnyExperiment> {
  if (!isExperimentId(id))
    return Promise.reject(new Error(`unknown experiment "${id}" (known: ${experimentIds.join(', ')})`));
  let p = loaded.get(id);
  if (!p) {
    p = checkedModule(id, catalogEntry(id).load());
    p.catch(() => loaded.delete(id));
    loaded.set(id, p);
  }
  return p;
}

/** The experiment a module exports, refused when it does not name `id`. */
export async function checkedModule(
  id: string,
  module: Promise<{ experiment?: AnyExperiment }>,
): Promise<AnyExperiment> {
  const m = await module;
  if (!m.experiment || m.experiment.id !== id)
    throw new Error(`src/lib/experiments/${id}/index.ts must export \`experiment\` with id "${id}"`);
  return m.experiment;
}
