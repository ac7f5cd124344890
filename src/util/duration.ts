/**
 * Durations as people write them on a command line or in a query: `90m`, `24h`, `7d` (also `s`
 * and `ms`), or a bare number of milliseconds. Pure.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^([1-9]\d*)(ms|s|m|h|d)?$/;

/** Milliseconds, or undefined when `text` is not a positive duration; `units` limits the suffixes allowed. */
export function parseDuration(text: string, units: readonly string[] = Object.keys(UNIT_MS)): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2] ?? "ms";
  if (m[2] !== undefined && !units.includes(unit)) return undefined;
  const ms = Number(m[1]) * (UNIT_MS[unit] as number);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest exact way to write `ms` (`24h`, `7d`, `90m`, `1500ms`). */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** `90m`, `24h`, `7d` (a unit is required: a bare number here is not a time ago) as milliseconds; else undefined. */
export function durationAgo(text: string): number | undefined {
  return /\d[mhd]$/.test(text.trim()) ? parseDuration(text, ["m", "h", "d"]) : undefined;
}
