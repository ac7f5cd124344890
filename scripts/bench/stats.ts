/** Percentiles and medians over plain number arrays. */

/** The p-th percentile (0..100) of `values` by linear interpolation between closest ranks. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every measurement, in the order taken. */
  runs: number[];
}

/** The median of repeated measurements, with their range. */
export function spread(runs: readonly number[]): Spread {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] };
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  n: number;
}

export function latencySummary(samples: readonly number[]): LatencySummary {
  return {
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
    n: samples.length,
  };
}

/** Each round's (on − off) / off, so the machine's drift between rounds cancels: median and range. */
export function pairedChange(off: readonly number[], on: readonly number[]): { medianPct: number; minPct: number; maxPct: number } {
  const pct = on.map((v, i) => ((v - off[i]!) / off[i]!) * 100);
  return { medianPct: median(pct), minPct: Math.min(...pct), maxPct: Math.max(...pct) };
}
