// Input checks shared by the metrics: one clear message per problem.

export class MetricInputError extends Error {
  override name = 'MetricInputError';
}

/** Checks that `values` holds n × dims finite numbers, n ≥ minRows. */
export function checkMatrix(values: ArrayLike<number>, n: number, dims: number, what: string, minRows = 1): void {
  if (!Number.isInteger(n) || !Number.isInteger(dims) || dims < 1)
    throw new MetricInputError(`${what}: invalid shape [${n}, ${dims}]`);
  if (n < minRows) throw new MetricInputError(`${what}: needs at least ${minRows} rows, got ${n}`);
  if (values.length !== n * dims)
    throw new MetricInputError(`${what}: ${values.length} values do not fill [${n}, ${dims}]`);
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i])) {
      const row = Math.floor(i / dims);
      throw new MetricInputError(
        `${what}: ${Number.isNaN(values[i]) ? 'NaN' : 'Inf'} at row ${row}, column ${i - row * dims}`,
      );
    }
}
