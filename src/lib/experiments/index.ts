// The experiment registry: one lazily imported module per id, the same in the worker, on the
// page (figures, defaults, cost) and in `farmer reproduce`. Each module exports
// `experiment: Experiment<P, R>`.
import { experimentIds, isExperimentId, type Experiment, type ExperimentId } from './types';

export { experimentIds, isExperimentId };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyExperiment = Experiment<any, any>;

interface ExperimentModule {
  experiment: AnyExperiment;
}

/** What each experiment reads besides the model and the test split. */
const needs: Record<ExperimentId, { featureNet: boolean; teacher?: boolean }> = {
  separation: { featureNet: false },
  logdet: { featureNet: false },
  sensitivity: { featureNet: true },
  likelihood: { featureNet: false },
  redundant: { featureNet: false },
  guidance: { featureNet: true },
  distill: { featureNet: true, teacher: true },
};

/** Whether the dataset's feature network must be loaded before `id` runs (it is fetched only then). */
export function needsFeatureNet(id: ExperimentId): boolean {
  return needs[id].featureNet;
}

/** Whether `id` compares a distilled student (the loaded model) with the teacher its card names. */
export function needsTeacher(id: ExperimentId): boolean {
  return needs[id].teacher === true;
}

export class ExperimentUnavailableError extends Error {
  override name = 'ExperimentUnavailableError';
}

// Under Vite (page, worker, vitest) the modules that exist are found at build time, so a module
// not written yet is no import error; under tsx (the CLI) `import.meta.env` is undefined and the
// module is imported by path.
const bundled: Record<string, () => Promise<ExperimentModule>> | null = import.meta.env
  ? import.meta.glob<ExperimentModule>(['./separation.ts', './logdet.ts', './sensitivity.ts', './likelihood.ts', './redundant.ts', './guidance.ts', './distill.ts'])
  : null;

async function importModule(id: ExperimentId): Promise<ExperimentModule | null> {
  if (bundled) return (await bundled[`./${id}.ts`]?.()) ?? null;
  // A plain string, not a template literal inside `new URL(…)`: Vite would turn that pattern
  // into an asset glob of every file in this folder.
  const file = './' + id + '.ts';
  try {
    return (await import(/* @vite-ignore */ new URL(file, import.meta.url).href)) as ExperimentModule;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String(e).includes(`${id}.ts`)) return null;
    throw e;
  }
}

const loaded = new Map<ExperimentId, Promise<AnyExperiment>>();

/** The experiment `id`; rejects with ExperimentUnavailableError while its module is not written. */
export function loadExperiment(id: ExperimentId): Promise<AnyExperiment> {
  if (!isExperimentId(id)) return Promise.reject(new Error(`unknown experiment "${id}" (known: ${experimentIds.join(', ')})`));
  let p = loaded.get(id);
  if (!p) {
    p = importModule(id).then((m) => {
      if (!m) throw new ExperimentUnavailableError(`experiment "${id}" is not available yet (src/lib/experiments/${id}.ts is not in this build)`);
      if (!m.experiment || m.experiment.id !== id) throw new Error(`src/lib/experiments/${id}.ts must export \`experiment\` with id "${id}"`);
      return m.experiment;
    });
    p.catch(() => loaded.delete(id));
    loaded.set(id, p);
  }
  return p;
}
