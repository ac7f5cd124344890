/**
 * `--merge`: the phases of a partial run written into the saved results of the last full run, so
 * docs/benchmarks.md keeps every phase; the report says which phases were measured again, when.
 */
import { targets, type Results } from "./report.js";

export interface Rerun {
  phases: string[];
  startedAt: string;
  mode: "full" | "quick";
  durationS: number;
  loadBefore: number[];
  loadAfter: number[];
}

/** `--only` phase names → their key in Results. */
const PHASE_KEY = {
  latency: "latency",
  throughput: "throughput",
  memory: "memory",
  cold: "cold",
  deadlink: "deadLink",
  startup: "startup",
  pressure: "pressure",
  async: "async",
  listen: "listen",
} as const;
export type Phase = keyof typeof PHASE_KEY;
export const PHASES = Object.keys(PHASE_KEY) as Phase[];

/** `saved` (a full run) with the phases of `run` replaced by its figures, and the rerun noted. */
export function mergeRun(saved: Results, run: Results, phases: readonly Phase[]): Results {
  const out: Results = { ...saved };
  for (const p of phases) {
    const key = PHASE_KEY[p];
    if (run[key] !== undefined) Object.assign(out, { [key]: run[key] });
  }
  const rerun: Rerun = {
    phases: [...phases],
    startedAt: run.startedAt,
    mode: run.mode,
    durationS: run.durationS,
    loadBefore: run.machine.loadavg,
    loadAfter: run.loadAfter,
  };
  const same = (r: Rerun) => r.phases.join() === rerun.phases.join();
  out.reruns = [...(saved.reruns ?? []).filter((r) => !same(r)), rerun];
  return { ...out, targets: targets(out) };
}
