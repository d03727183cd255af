// The headline numbers of a zoo entry as short labelled strings for the model list. Keys follow
// `farmer zoo` (bpd_test, bpd_n, fid_<net>, is_<net>, precision_<net>, recall_<net>, eval_n);
// every sample metric names its feature network, since none of them is an Inception score.

export interface MetricLine {
  label: string;
  value: string;
  /** how it was measured: sample counts, the feature network */
  detail: string;
}

const sampleMetric = /^(fid|is|precision|recall)_(.+)$/;
const names: Record<string, string> = { fid: 'FID', is: 'IS', precision: 'precision', recall: 'recall' };

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

/** Lines in a stable order: BPD first, then FID, IS, precision, recall. */
export function metricLines(metrics: Record<string, number> | undefined): MetricLine[] {
  if (!metrics) return [];
  const lines: MetricLine[] = [];
  const bpdKey = Object.keys(metrics).find((k) => /^bpd_(test|train)$/.test(k));
  if (bpdKey) {
    const n = metrics.bpd_n ?? metrics.eval_n;
    lines.push({ label: `${bpdKey.slice(4)} BPD`, value: fixed(metrics[bpdKey], 3), detail: n ? `n = ${n}` : '' });
  }
  for (const kind of ['fid', 'is', 'precision', 'recall']) {
    for (const [key, v] of Object.entries(metrics)) {
      const m = sampleMetric.exec(key);
      if (!m || m[1] !== kind) continue;
      const n = metrics.eval_n;
      lines.push({
        label: names[kind],
        value: fixed(v, kind === 'fid' ? 1 : 2),
        detail: `${m[2]} features${n ? `, n = ${n}` : ''}`,
      });
    }
  }
  return lines;
}
