// Figures of the distillation experiment (Algorithm 2): teacher, student and difference strips on
// the same latents; seconds per image of each decoder; the per-image PSNR of student against teacher.
import * as Plot from '@observablehq/plot';
import { labelledStrips } from '../../plots/strips';
import type { Figure } from '../types';
import { speedups, type DistillResult } from './result';

const TEACHER = '#3a6ea5',
  STUDENT = '#d1495b';

/** Three rows — teacher, student, 4·|student − teacher| — over the same first samples. */
export function distillPairs(r: DistillResult, doc: Document, { scale }: { scale?: number } = {}): SVGSVGElement {
  const pics = r.pictures!;
  return labelledStrips(doc, {
    title: 'The same latents decoded by the teacher and by the one-step student',
    footnote: 'one set of latents from the shared AR prior; NaN/Inf drawn black',
    columns: Array.from({ length: r.kept }, (_, c) => (r.classes > 0 ? `y = ${c % r.classes}` : `#${c}`)),
    rows: [
      { label: 'teacher (AF inverse)', picture: pics.teacher },
      { label: 'student (one pass)', picture: pics.student },
      { label: '|student − teacher| ×4', picture: pics.difference },
    ],
    image: r.image,
    left: 150,
    scale,
  });
}

/** Milliseconds per image of the AF inverse and of whole sampling, teacher against student. */
export function timingBars(r: DistillResult, doc: Document, { width = 560 } = {}): SVGElement {
  const t = r.timing,
    sp = speedups(t);
  const bars = [
    { stage: 'AF inverse', decoder: 'teacher', ms: 1000 * t.teacherInversePerImage },
    { stage: 'AF inverse', decoder: 'student', ms: 1000 * t.studentInversePerImage },
    { stage: 'whole sampling', decoder: 'teacher', ms: 1000 * (t.arPerImage + t.teacherInversePerImage) },
    { stage: 'whole sampling', decoder: 'student', ms: 1000 * (t.arPerImage + t.studentInversePerImage) },
  ];
  const ratio = { 'AF inverse': sp.inverse, 'whole sampling': sp.whole } as const;
  return Plot.plot({
    document: doc,
    width,
    height: 170,
    marginLeft: 110,
    marginRight: 90,
    x: { label: `ms per image (${t.backend}, median of ${t.teacherRuns.length}) →`, grid: true, zero: true },
    y: { label: null, domain: ['AF inverse', 'whole sampling'] },
    fy: { label: null, domain: ['teacher', 'student'] },
    color: { domain: ['teacher', 'student'], range: [TEACHER, STUDENT] },
    marks: [
      Plot.barX(bars, { x: 'ms', y: 'stage', fill: 'decoder', fy: 'decoder', inset: 2 }),
      Plot.text(bars, {
        x: 'ms',
        y: 'stage',
        fy: 'decoder',
        text: (b: { ms: number }) => `${b.ms.toFixed(1)} ms`,
        dx: 4,
        textAnchor: 'start',
        fontSize: 10,
      }),
      Plot.text(
        bars.filter((b) => b.decoder === 'student'),
        {
          x: 'ms',
          y: 'stage',
          fy: 'decoder',
          text: (b: { stage: keyof typeof ratio }) => `${ratio[b.stage].toFixed(1)}× faster`,
          dx: 52,
          textAnchor: 'start',
          fontSize: 10,
          fontWeight: 600,
        },
      ),
    ],
  }) as SVGElement;
}

/** Histogram of the per-image PSNR of the student's output against the teacher's. */
export function agreementHistogram(r: DistillResult, doc: Document, { width = 480 } = {}): SVGElement {
  const values = r.agreement.flatMap((a) => (a && a.psnr !== null ? [{ psnr: a.psnr }] : []));
  const identical = r.agreement.filter((a) => a && a.psnr === null).length;
  return Plot.plot({
    document: doc,
    width,
    height: 220,
    x: { label: 'PSNR of student against teacher, dB (higher: closer) →' },
    y: { label: '↑ samples', grid: true },
    marks: [
      Plot.rectY(
        values,
        Plot.binX<Plot.RectYOptions>({ y: 'count' }, { x: 'psnr', fill: STUDENT, fillOpacity: 0.8, inset: 0.5 }),
      ),
      Plot.ruleY([0]),
      ...(identical > 0
        ? [
            Plot.text([`${identical} identical pair(s) not shown`], {
              frameAnchor: 'top-right',
              dx: -6,
              dy: 6,
              fontSize: 10,
            }),
          ]
        : []),
    ],
  }) as SVGElement;
}

export function* distillFigures(r: DistillResult, doc: Document): Generator<Figure> {
  if (r.pictures) yield { name: 'pairs', node: distillPairs(r, doc) };
  yield { name: 'timing', node: timingBars(r, doc) };
  if (r.agreement.some((a) => a !== null)) yield { name: 'agreement', node: agreementHistogram(r, doc) };
}
