// Turns the worker's backend report into one row per backend: which runs, and why each other
// one does not.
import { backendNames, type BackendName, type BackendReport } from './protocol';
import { workKinds, type BackendChoice, type WorkKind } from './backend-choice';

export const backendLabels: Record<BackendName, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WebAssembly',
  cpu: 'CPU (plain JS)',
};

export interface BackendRow {
  name: BackendName;
  label: string;
  /** active: runs the models; failed: tried and rejected; available: works, another was chosen; skipped: passed over without trying */
  state: 'active' | 'failed' | 'available' | 'skipped';
  reason: string;
}

export function backendRows(report: BackendReport): BackendRow[] {
  const { active, requested, attempts } = report;
  return backendNames.map((name): BackendRow => {
    const attempt = [...attempts].reverse().find((a) => a.name === name);
    const row = (state: BackendRow['state'], reason: string) => ({ name, label: backendLabels[name], state, reason });
    if (name === active)
      return row(
        'active',
        attempt?.reason || (requested === name ? `forced with ?backend=${name}` : 'the first one that works'),
      );
    if (attempt && !attempt.ok) return row(attempt.tried ? 'failed' : 'skipped', attempt.reason || 'no reason given');
    if (attempt) return row('available', attempt.reason || `works, but ${active} was chosen`);
    if (requested === active) return row('skipped', `not tried: ?backend=${requested} was requested and works`);
    return row('skipped', `not tried: ${backendLabels[active]} already works`);
  });
}

export interface TimingRow {
  name: BackendName;
  label: string;
  /** ms per image of a forward pass, ms per sampling step; null when the probe did not run */
  forwardMs: number | null;
  sampleStepMs: number | null;
  /** why the probe did not run */
  error: string | null;
  /** the kinds of work that run here */
  chosenFor: WorkKind[];
}

/** One row per backend that was timed, in the order backends are tried. */
export function timingRows(choice: BackendChoice): TimingRow[] {
  return backendNames.flatMap((name): TimingRow[] => {
    const t = choice.timings[name];
    if (!t) return [];
    const chosenFor = workKinds.filter((k) => choice.chosen[k] === name);
    if ('error' in t)
      return [{ name, label: backendLabels[name], forwardMs: null, sampleStepMs: null, error: t.error, chosenFor }];
    return [
      {
        name,
        label: backendLabels[name],
        forwardMs: t.forwardMs,
        sampleStepMs: t.sampleStepMs,
        error: null,
        chosenFor,
      },
    ];
  });
}
