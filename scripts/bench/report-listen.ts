/**
 * The listener phase in the report (issue 17): "the listener costs the Unix socket path nothing
 * measurable". Met when the median paired change of throughput per round is within ±5 % (the
 * machine's noise between two identical daemons is about that).
 */
import type { ListenResult } from "./listen-phase.js";
import type { Target } from "./report.js";

const pct = (v: number) => `${v > 0 ? "+" : ""}${v.toFixed(1)} %`;
const NOISE_PCT = 5;

export function listenTarget(l: ListenResult): Target {
  const t = l.throughputChangePerRoundPct;
  const within = Math.abs(t.medianPct) <= NOISE_PCT;
  return {
    name: "--listen: cost to the Unix socket path",
    target: `nothing measurable (median paired change within ±${NOISE_PCT} %)`,
    measured: `${pct(t.medianPct)} (${pct(t.minPct)} … ${pct(t.maxPct)})`,
    met: within,
  };
}

export function listenSection(l: ListenResult): string[] {
  const row = (name: string, v: ListenResult["unixOnly"]) =>
    `| ${name} | ${Math.round(v.tasksPerSec)} | ${Math.round(v.cpuUsPerTask)} µs |`;
  const t = l.throughputChangePerRoundPct;
  const c = l.cpuChangePerRoundPct;
  return [
    "",
    `### 9. The loopback listener: ${l.clients} clients over the Unix socket, ${l.rounds} rounds of ${l.tasksPerRun} tasks (issue 17)`,
    "",
    "| daemon | tasks/s (median) | daemon CPU per task |",
    "| --- | --- | --- |",
    row("Unix socket only", l.unixOnly),
    row("with `--listen 127.0.0.1:0`", l.withListener),
    "",
    `Paired change per round (order alternating): throughput ${pct(t.medianPct)} (${pct(t.minPct)} … ${pct(t.maxPct)}), CPU per task ${pct(c.medianPct)} (${pct(c.minPct)} … ${pct(c.maxPct)}).`,
  ];
}
