// Numbers as figures and readings print them.

/** "23.3", "4.12"; "–" for a missing value */
export function formatMetric(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/**
 * Like formatMetric, with more decimals (up to 5) when values under 10 lie too close together for
 * two to tell apart, e.g. IS 1.0001 … 1.0005 of an early model, which would all read "1.00".
 */
export function metricFormatter(values: readonly (number | null)[]): (v: number | null | undefined) => string {
  const small = values.filter((v): v is number => v !== null && Number.isFinite(v) && Math.abs(v) < 10);
  const spread = small.length > 1 ? Math.max(...small) - Math.min(...small) : 0;
  if (!(spread > 0 && spread < 0.05)) return formatMetric;
  const decimals = Math.min(5, Math.max(2, Math.ceil(-Math.log10(spread))));
  return (v) =>
    v === null || v === undefined || !Number.isFinite(v) ? '–' : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(decimals);
}

/** "0.12"; "–" for a missing or non-finite value */
export function fixed(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** "42%"; "–" for a missing value */
export function percent(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(0)}%`;
}
