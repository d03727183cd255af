// What the logdet page shows beside the cell's figures: which image a click picked and that
// image's numbers. Plain functions of the result.
import {
  galleryOrder,
  type HeatmapChoice,
  type ImagePoint,
  type LogdetResult,
  type Source,
  type SourceResult,
} from '../../lib/experiments/logdet/result';

/** An image of the result: its source and its index there (row of that source's pixels). */
export interface Selection {
  source: Source;
  index: number;
}

export const SOURCE_LABEL: Record<Source, string> = { test: 'test image', sample: 'sample' };

function isPoint(v: unknown): v is ImagePoint {
  const p = v as ImagePoint | null;
  return (
    typeof p === 'object' && p !== null && (p.source === 'test' || p.source === 'sample') && Number.isInteger(p.index)
  );
}

/**
 * The image a click on `target` picked: a gallery thumbnail (data-source, data-index), or the
 * point a Plot pointer holds as the `value` of an enclosing figure (the blur scatter). Null otherwise.
 */
export function selectionFromTarget(target: EventTarget | null): Selection | null {
  let el = target as Element | null;
  if (!el || typeof el.closest !== 'function') return null;
  const thumb = el.closest('[data-source][data-index]');
  if (thumb) {
    const source = thumb.getAttribute('data-source'),
      index = Number(thumb.getAttribute('data-index'));
    if ((source === 'test' || source === 'sample') && Number.isInteger(index)) return { source, index };
  }
  for (; el; el = el.parentElement) {
    const value = (el as Element & { value?: unknown }).value;
    if (isPoint(value)) return { source: value.source, index: value.index };
  }
  return null;
}

export function sourceOf(r: LogdetResult, source: Source): SourceResult {
  return source === 'test' ? r.test : r.samples;
}

/** The position of a selection in its source's points (−1: not a finite, measured image). */
export function pointPosition(r: LogdetResult, s: Selection): number {
  return sourceOf(r, s.source).points.findIndex((q) => q.index === s.index);
}

/** What to show before any click: the first sample of the gallery (outliers first), else the first test image. */
export function defaultSelection(r: LogdetResult): Selection | null {
  const first = galleryOrder(r.samples.points)[0] ?? galleryOrder(r.test.points)[0];
  return first ? { source: first.source, index: first.index } : null;
}

/** The selection if the result has it, else the default. */
export function validSelection(r: LogdetResult, s: Selection | null): Selection | null {
  return s && pointPosition(r, s) >= 0 ? s : defaultSelection(r);
}

/** The heatmap for a selection: that image or its source's mean, one block or the total. */
export function heatmapChoice(
  r: LogdetResult,
  s: Selection,
  view: 'image' | 'mean',
  block: 'total' | number,
): HeatmapChoice {
  return { source: s.source, image: view === 'mean' ? 'mean' : pointPosition(r, s), block };
}
