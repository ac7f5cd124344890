/**
 * Preloaded into a daemon under test (`node --expose-gc --import mem-probe.js ...`,
 * RW_BENCH_PROBE=FILE): every 100 ms it appends one JSON line of the process's own memory breakdown
 * to FILE, so the bench can say what dominates the RSS it measures from outside. On SIGUSR2 it runs
 * a full GC first and marks that sample `live`: what the daemon still holds, garbage aside. Reads
 * only the process's own counters; the timer is unref'd.
 */
import { appendFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";

/** One sample (bytes); `oldSpace` and `largeObjects` are V8's old and large-object heap spaces, used. */
export interface ProbeSample {
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  oldSpace: number;
  largeObjects: number;
  /** Taken right after a forced full GC (SIGUSR2). */
  live?: true;
}

const EVERY_MS = 100;
const file = process.env["RW_BENCH_PROBE"];

function spaceUsed(name: string): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === name)?.space_used_size ?? 0;
}

function sample(to: string, live: boolean): void {
  const m = process.memoryUsage();
  const s: ProbeSample = {
    t: Date.now(),
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    oldSpace: spaceUsed("old_space"),
    largeObjects: spaceUsed("large_object_space"),
    ...(live ? { live: true as const } : {}),
  };
  appendFileSync(to, `${JSON.stringify(s)}\n`);
}

if (file) {
  setInterval(() => sample(file, false), EVERY_MS).unref();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    process.on("SIGUSR2", () => {
      gc();
      sample(file, true);
    });
  }
}
