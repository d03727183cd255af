// Turns the worker's backend report into one row per backend: which runs, and why each other
// one does not.
import { backendNames, type BackendName, type BackendReport } from './protocol';

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
      return row('active', attempt?.reason || (requested === name ? `forced with ?backend=${name}` : 'the first one that works'));
    if (attempt && !attempt.ok) return row(attempt.tried ? 'failed' : 'skipped', attempt.reason || 'no reason given');
    if (attempt) return row('available', attempt.reason || `works, but ${active} was chosen`);
    if (requested === active) return row('skipped', `not tried: ?backend=${requested} was requested and works`);
    return row('skipped', `not tried: ${backendLabels[active]} already works`);
  });
}
