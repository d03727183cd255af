// A model card (docs/model.md, "Checkpoint file") as a few lines for people: how it was trained, from what, and what it
// measured, with every sample metric naming its feature network and sample count.
import type { Card } from './checkpoint';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function duration(seconds: number): string {
  if (!(seconds >= 0)) return '?';
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function trainingLine(train: Record<string, unknown>): string {
  const curve = Array.isArray(train.curve_bpd) ? (train.curve_bpd as [number, number][]) : [];
  const o = isObject(train.options) ? train.options : {};
  const parts: string[] = [];
  if (curve.length >= 2)
    parts.push(
      `training BPD ${curve[0][1].toFixed(3)} (step ${curve[0][0]}) → ${curve[curve.length - 1][1].toFixed(3)} (step ${curve[curve.length - 1][0]})`,
    );
  if (num(o.batch) !== null)
    parts.push(`batch ${o.batch}, lr ${o.lr}, warm-up ${o.warmup}, cosine over ${o.steps} steps, EMA ${o.ema}`);
  if (num(train.skipped_steps)) parts.push(`${train.skipped_steps} non-finite steps skipped`);
  return parts.join('; ');
}

function evalLines(e: Record<string, unknown>): string[] {
  const out: string[] = [];
  const bpd = isObject(e.bpd) ? e.bpd : null;
  if (bpd && num(bpd.value) !== null)
    out.push(
      `test BPD ${(bpd.value as number).toFixed(4)} (n = ${bpd.n} test images, ${bpd.labels === 'test' ? 'test labels' : bpd.labels === 'null' ? 'null label' : 'unconditional'}, seed ${bpd.seed})`,
    );
  const s = isObject(e.sampling) ? e.sampling : null;
  const metric = (key: string, digits: number) => {
    const m = isObject(e[key]) ? (e[key] as Record<string, unknown>) : null;
    return m && num(m.value) !== null ? (m.value as number).toFixed(digits) : null;
  };
  const fid = metric('fid', 1),
    is = metric('is', 2),
    p = metric('precision', 3),
    r = metric('recall', 3);
  if (fid || is || p || r) {
    const net = isObject(e.feature_net) ? String(e.feature_net.name) : 'unnamed';
    const samples = s
      ? `${s.finite} finite of ${s.n} samples, T = ${s.T}, s = ${s.s}${s.cfg ? `, CFG ${s.cfg}` : ''}`
      : '';
    out.push(
      `FID ${fid ?? '–'} / IS ${is ?? '–'} / precision ${p ?? '–'} / recall ${r ?? '–'} (${net} features, not Inception; ${samples})`,
    );
  }
  return out;
}

/** Where a model came from: `card.train` (or `card.distill` for a student) as its trainer writes it. */
export interface Lineage {
  /** "farmer train", "farmer distill", "farmer_torch", … */
  trainer: string | null;
  /** the backend or device it trained on, e.g. "wasm", "webgpu", "cuda" */
  device: string | null;
  /** processes that trained it together */
  world_size: number | null;
  /** the weights it started from, when it continued another model */
  init: { source: string; steps: number | null } | null;
}

/** The card's lineage, or null when it records none of it. */
export function cardLineage(card: Card): Lineage | null {
  const t = isObject(card.train) ? card.train : isObject(card.distill) ? card.distill : null;
  if (!t) return null;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const init =
    isObject(t.init) && str(t.init.source) ? { source: str(t.init.source)!, steps: num(t.init.steps) } : null;
  const lineage: Lineage = {
    trainer: str(t.trainer),
    device: str(t.device),
    world_size: Number.isInteger(t.world_size) ? (t.world_size as number) : null,
    init,
  };
  return Object.values(lineage).some((v) => v !== null) ? lineage : null;
}

/** "lineage: trainer farmer_torch, device cuda, world size 8, continued from mnist-farmer (3900 steps)" */
export function lineageLine(l: Lineage): string {
  const parts = [
    l.trainer !== null ? `trainer ${l.trainer}` : '',
    l.device !== null ? `device ${l.device}` : '',
    l.world_size !== null ? `world size ${l.world_size}` : '',
    l.init ? `continued from ${l.init.source}${l.init.steps !== null ? ` (${l.init.steps} steps)` : ''}` : '',
  ];
  return `lineage: ${parts.filter(Boolean).join(', ')}`;
}

/** The card's recommended sampling settings as one line, or null. */
function samplingLine(card: Card): string | null {
  if (!isObject(card.sampling)) return null;
  const parts = Object.entries(card.sampling).map(([k, v]) => `${k} = ${v}`);
  return parts.length ? `sampling: ${parts.join(', ')}` : null;
}

/** The card's lines, without the config (which `farmer info` prints from the config itself). */
export function cardLines(card: Card): string[] {
  const lines = [`card: dataset ${card.dataset}, ${card.steps} steps (${duration(card.time_s)}), seed ${card.seed}`];
  if (typeof card.weights === 'string') lines.push(`weights: ${card.weights}`);
  const lineage = cardLineage(card);
  if (lineage) lines.push(lineageLine(lineage));
  if (isObject(card.train)) {
    const t = trainingLine(card.train);
    if (t) lines.push(t);
  }
  const sampling = samplingLine(card);
  if (sampling) lines.push(sampling);
  if (isObject(card.teacher))
    lines.push(
      `distilled from ${card.teacher.name} (sha256 ${String(card.teacher.sha256).slice(0, 12)}…, ${card.teacher.steps} steps)`,
    );
  if (isObject(card.distill)) {
    const first = num(card.distill.first_loss),
      last = num(card.distill.last50_loss);
    if (first !== null && last !== null)
      lines.push(`distillation loss ${first.toPrecision(4)} → ${last.toPrecision(4)} (mean of the last 50 steps)`);
  }
  for (const [k, v] of Object.entries(isObject(card.metrics) ? card.metrics : {})) {
    if (k === 'eval' && isObject(v)) lines.push(...evalLines(v));
    else lines.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  return lines;
}
