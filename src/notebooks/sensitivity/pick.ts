// The sensitivity page's logic: which point's samples are shown, and how long a run will take.
import { defaultSelection, findCell, type SensitivityResult } from '../../lib/experiments/sensitivity/result';

/** A grid point chosen by (T, s), so that it survives a change of the grid. */
export interface Pick {
  T: number;
  s: number;
}

/** The point a `data-point` index of `r`'s figures stands for. */
export function pickOf(r: SensitivityResult, index: number): Pick | null {
  if (!Number.isInteger(index) || index < 0 || index >= r.T.length * r.s.length) return null;
  return { T: r.T[Math.floor(index / r.s.length)], s: r.s[index % r.s.length] };
}

/** Cell index to show: the pick when it is on the grid, else the paper's point or the first computed. */
export function shownIndex(r: SensitivityResult, pick: Pick | null): number {
  const i = pick ? findCell(r, pick.T, pick.s) : -1;
  return i >= 0 ? i : defaultSelection(r);
}

/**
 * Seconds per cost unit (one sample × one token) on wasm, measured on the MNIST-size model
 * (configs/mnist-farmer-bpd.json, 49 tokens, 4 AF blocks): 100 samples at one grid point, features
 * and FID included, took 20.7 s in Node on 2 cores shared with a training job. Its CPU time was
 * about a third of that, so an idle machine should be faster; CFG runs took 1.5–2× a plain one.
 */
export const WASM_SECONDS_PER_UNIT = 20.7 / (100 * 49);

/** "about 4 min on wasm …" for `units`; `active` is the backend in use (only wasm is measured), `label` its name for people. */
export function timeEstimate(units: number, active: string | null, label = active ?? 'this backend'): string {
  const s = units * WASM_SECONDS_PER_UNIT;
  const text = s < 90 ? `about ${Math.max(5, Math.round(s / 5) * 5)} s` : `about ${Math.round(s / 60)} min`;
  const measured = `${text} on WebAssembly (measured on a busy 2-core CPU)`;
  return active === 'wasm'
    ? measured
    : `${measured}; ${label} is not measured, and the progress bar's estimate settles after the first point`;
}
