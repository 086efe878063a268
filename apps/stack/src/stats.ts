/** Nearest-rank percentile: the smallest sample with at least p% of the samples at or below it (no interpolation). */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export interface Percentiles {
  count: number;
  p50: number | undefined;
  p95: number | undefined;
  p99: number | undefined;
  max: number | undefined;
}

export function percentiles(values: readonly number[]): Percentiles {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: percentile(values, 100),
  };
}

/** Milliseconds for a table cell: one decimal below 100 ms, whole numbers above; "-" when there is nothing. */
export function ms(value: number | undefined): string {
  if (value === undefined) return "-";
  return value < 100 ? value.toFixed(1) : value.toFixed(0);
}

export function round(value: number | undefined, digits = 1): number | null {
  if (value === undefined) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
