/**
 * The results as a markdown table (printed, and written to docs/benchmarks.md between markers so
 * the hand-written analysis around it survives a re-run) and as JSON (docs/benchmarks.json).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import { dirname } from "node:path";
import { BENCH, TARGETS } from "./config.js";
import { median, type Spread } from "./stats.js";
import {
  LAT,
  TPUT,
  type ColdResult,
  type CpuPerTask,
  type DeadLinkResult,
  type LatencyResult,
  type MemoryResult,
  type StartupResult,
  type ThroughputResult,
} from "./phases.js";
import type { AsyncResult } from "./async-mix.js";
import { ms } from "./format.js";
import type { PressureResult } from "./pressure.js";
import type { Rerun } from "./report-merge.js";
import { asyncSection, asyncTargets } from "./report-async.js";
import type { ListenResult } from "./listen-phase.js";
import { listenSection, listenTarget } from "./report-listen.js";
import { pressureSection, pressureTargets } from "./report-pressure.js";

export interface Machine {
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  os: string;
  loadavg: number[];
}

export function machine(): Machine {
  const cs = cpus();
  return {
    node: process.version,
    cpu: cs[0]?.model.trim() ?? "unknown",
    cores: cs.length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    os: `${process.platform} ${release()}`,
    loadavg: loadavg().map((x) => round(x, 2)),
  };
}

export interface Results {
  mode: "full" | "quick";
  startedAt: string;
  durationS: number;
  machine: Machine;
  loadAfter: number[];
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  memory?: MemoryResult;
  cold?: ColdResult;
  deadLink?: DeadLinkResult;
  startup?: StartupResult;
  pressure?: PressureResult;
  async?: AsyncResult;
  listen?: ListenResult;
  /** Phases measured again on their own and merged in (`--merge`), newest last. */
  reruns?: Rerun[];
  targets: Target[];
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * a / b for two contenders measured in the same interleaved repetitions: the median of the per-
 * repetition ratios, which cancels machine-load drift between repetitions; with unequal run counts
 * (sdk-js runs fewer), the ratio of the medians.
 */
function ratio(a: Spread | undefined, b: Spread | undefined): number {
  if (!a || !b) return Number.NaN;
  if (a.runs.length === b.runs.length && a.runs.length > 0) return median(a.runs.map((v, i) => v / (b.runs[i] as number)));
  return a.median / b.median;
}

/** a − b, paired per repetition like `ratio`. */
function difference(a: Spread | undefined, b: Spread | undefined): number {
  if (!a || !b) return Number.NaN;
  if (a.runs.length === b.runs.length && a.runs.length > 0) return median(a.runs.map((v, i) => v - (b.runs[i] as number)));
  return a.median - b.median;
}

const x = (r: number) => `${r.toFixed(2)}×`;
/** A `| what | runs | median | range |` row of repeated wall-time measurements. */
const spreadRow = (what: string, s: Spread, digits: number) =>
  `| ${what} | ${s.runs.length} | ${ms(s.median, digits)} | ${s.min.toFixed(digits)}–${s.max.toFixed(digits)} ms |`;

export function targets(r: Omit<Results, "targets">): Target[] {
  const out: Target[] = [];
  const lat = r.latency?.contenders;
  const directP50 = lat?.[LAT.direct]?.p50;
  if (lat && directP50) {
    for (const [label, name] of [
      ["HTTP", LAT.http],
      ["local WebSocket", LAT.ws],
    ] as const) {
      const p50 = lat[name]?.p50;
      if (!p50) continue;
      const added = difference(p50, directP50);
      out.push({
        name: `added latency p50, ${label}`,
        target: `≤ ${TARGETS.addedLatencyP50Ms} ms`,
        measured: ms(added),
        met: added <= TARGETS.addedLatencyP50Ms,
      });
    }
  }
  const tp = r.throughput?.contenders;
  if (tp) {
    const single = tp[TPUT.httpSingle]?.tasksPerSec;
    const direct = tp[TPUT.direct]?.tasksPerSec;
    const vsDirect = ratio(single, direct);
    const vsSdk = ratio(single, tp[TPUT.sdk]?.tasksPerSec);
    const batched = ratio(tp[TPUT.httpBatch]?.tasksPerSec, direct);
    out.push({
      name: "HTTP single-task throughput vs direct ws",
      target: `≥ ${TARGETS.httpSingleVsDirect}×`,
      measured: x(vsDirect),
      met: vsDirect >= TARGETS.httpSingleVsDirect,
    });
    out.push({
      name: "HTTP single-task throughput vs sdk-js",
      target: `≥ ${TARGETS.httpSingleVsSdk}×`,
      measured: x(vsSdk),
      met: vsSdk >= TARGETS.httpSingleVsSdk,
    });
    out.push({
      name: `HTTP batched (${BENCH.batchSize}) throughput vs direct ws`,
      target: `≥ ${TARGETS.batchedVsDirect}×`,
      measured: x(batched),
      met: batched >= TARGETS.batchedVsDirect,
    });
  }
  if (r.memory) {
    const b = r.memory.bytesPerTask;
    out.push({
      name: "memory per pending task",
      target: `≤ ${TARGETS.bytesPerPendingTask / 1024} KiB`,
      measured: `${Math.round(b)} B`,
      met: b <= TARGETS.bytesPerPendingTask,
    });
  }
  if (r.cold) {
    // Runs alternate, so pairs share the machine's momentary load; the median of pair ratios cancels it.
    const q = ratio(r.cold.daemonCliMs, r.cold.sdkScriptMs);
    out.push({ name: "cold one-shot vs sdk-js script", target: `≤ ${TARGETS.coldVsSdk}×`, measured: x(q), met: q <= TARGETS.coldVsSdk });
  }
  if (r.deadLink) {
    const v = r.deadLink;
    const off = Math.abs(v.measuredMs.median - v.expectedShrunkMs) / v.expectedShrunkMs;
    out.push({
      name: "dead-link detection follows ping + 2 × pong (shrunk scale)",
      target: `within ${TARGETS.deadLinkTolerance * 100} % of ${v.expectedShrunkMs} ms`,
      measured: ms(v.measuredMs.median, 0),
      met: off <= TARGETS.deadLinkTolerance,
    });
  }
  if (r.startup) {
    const q = ratio(r.startup.cliStatusMs, r.startup.nodeMs);
    out.push({ name: "CLI start-up vs bare node", target: `≤ ${TARGETS.startupVsNode}×`, measured: x(q), met: q <= TARGETS.startupVsNode });
  }
  if (r.pressure) out.push(...pressureTargets(r.pressure));
  if (r.async) out.push(...asyncTargets(r.async));
  if (r.listen) out.push(listenTarget(r.listen));
  return out;
}

/** CPU µs per task per process; the daemon column only where the daemon is in the path. */
function cpuCell(name: string, u: CpuPerTask): string {
  return `${Math.round(u.client)} / ${name.startsWith("daemon") ? Math.round(u.daemon) : "—"} / ${Math.round(u.sim)}`;
}

export function markdown(r: Results): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(
    `Run: ${r.startedAt}, ${r.mode} mode, ${r.durationS.toFixed(0)} s. Machine: Node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}; load average before ${m.loadavg.join(" / ")}, after ${r.loadAfter.join(" / ")}.`,
  );
  for (const again of r.reruns ?? []) {
    lines.push(
      "",
      `Measured again on its own and merged in: ${again.phases.join(", ")}, ${again.startedAt}, ${again.mode} mode, ${again.durationS.toFixed(0)} s; load average before ${again.loadBefore.join(" / ")}, after ${again.loadAfter.join(" / ")}.`,
    );
  }
  lines.push("");
  lines.push("### Targets");
  lines.push("");
  lines.push("Ratios and differences are medians over pairs of runs taken back to back (see Method).", "");
  lines.push("| target | goal | measured | |");
  lines.push("| --- | --- | --- | --- |");
  for (const t of r.targets) lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? "met" : "**not met**"} |`);

  if (r.latency) {
    const c = r.latency.contenders;
    const direct = c[LAT.direct]?.p50;
    lines.push("", "### 1. Latency: sequential single-task requests (imageInference 128×128, simulator work 0 ms)", "");
    lines.push("| path | requests × runs | p50 | p99 | p50 over direct ws | CPU µs/request: client / daemon / sim |");
    lines.push("| --- | --- | --- | --- | --- | --- |");
    for (const [name, v] of Object.entries(c)) {
      const added = name === LAT.direct ? "—" : `+${difference(v.p50, direct).toFixed(3)} ms`;
      lines.push(
        `| ${name} | ${v.requestsPerRun} × ${v.reps} | ${ms(v.p50.median)} | ${ms(v.p99.median)} | ${added} | ${cpuCell(name, v.cpuUsPerRequest)} |`,
      );
    }
  }
  if (r.throughput) {
    const c = r.throughput.contenders;
    const direct = c[TPUT.direct]?.tasksPerSec;
    const sdk = c[TPUT.sdk]?.tasksPerSec;
    lines.push("", `### 2. Throughput: ${BENCH.concurrency} concurrent clients, daemon --max-in-flight ${BENCH.maxInFlight}`, "");
    lines.push(
      "| path | connections | tasks × runs | tasks/s (median) | range | vs direct ws | vs sdk-js | CPU µs/task: client / daemon / sim |",
    );
    lines.push("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const [name, v] of Object.entries(c)) {
      const t = v.tasksPerSec;
      lines.push(
        `| ${name} | ${v.connections} | ${v.tasksPerRun} × ${t.runs.length} | ${Math.round(t.median)} | ${Math.round(t.min)}–${Math.round(t.max)} | ${x(ratio(t, direct))} | ${x(ratio(t, sdk))} | ${cpuCell(name, v.cpuUsPerTask)} |`,
      );
    }
  }
  if (r.memory) {
    const v = r.memory;
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    lines.push("", "### 3. Memory: daemon RSS (/proc/PID/status VmRSS, median of 5 samples, no forced GC)", "");
    lines.push("| state | RSS |");
    lines.push("| --- | --- |");
    lines.push(`| just started, link ready | ${mib(v.freshIdleBytes)} |`);
    lines.push(`| idle after ${v.warmupTasks} tasks | ${mib(v.idleBytes)} |`);
    lines.push(`| ${v.pendingTasks} tasks pending upstream | ${mib(v.pendingBytes)} |`);
    lines.push(`| **per pending task** | **${Math.round(v.bytesPerTask)} B** |`);
  }
  if (r.cold) {
    const v = r.cold;
    lines.push("", `### 4. Cold one-shot: a fresh process gets one image (simulator adds ${v.latencyMs} ms each way)`, "");
    lines.push("| process | runs | median | range |");
    lines.push("| --- | --- | --- | --- |");
    lines.push(spreadRow("`runware text-to-image` via a running daemon", v.daemonCliMs, 0));
    lines.push(spreadRow("node script with sdk-js (connect, auth, request)", v.sdkScriptMs, 0));
  }
  if (r.deadLink) {
    const v = r.deadLink;
    lines.push("", "### 5. Dead link: last frame on a frozen upstream → detected", "");
    lines.push("| client | settings | time |");
    lines.push("| --- | --- | --- |");
    lines.push(
      `| daemon, measured (${v.measuredMs.runs.length} runs) | ping ${v.shrunk.pingMs} ms, pong timeout ${v.shrunk.pongMs} ms, ${v.shrunk.maxMissed} misses | ${ms(v.measuredMs.median, 0)} (range ${v.measuredMs.min.toFixed(0)}–${v.measuredMs.max.toFixed(0)}; formula ping + 2 × pong = ${v.expectedShrunkMs} ms) |`,
    );
    lines.push(`| daemon, defaults (computed) | ping 20 s, pong timeout 10 s | **${(v.defaultMs / 1000).toFixed(0)} s** |`);
    if (v.sdkMeasuredAtMinMs !== undefined) {
      lines.push(
        `| sdk-js, measured | heartbeatInterval 10 s (its minimum) | ${(v.sdkMeasuredAtMinMs / 1000).toFixed(1)} s (formula 3 × 10 + 10 = 40 s) |`,
      );
    }
    lines.push(
      `| sdk-js, defaults (docs/protocol.md §10.2) | ping 45 s, 10 s pong timeout, 3 misses | **${(v.sdkDefaultMs / 1000).toFixed(0)} s** |`,
    );
  }
  if (r.startup) {
    const v = r.startup;
    lines.push("", "### 6. Client start-up (fresh process, wall time)", "");
    lines.push("| command | runs | median | range |");
    lines.push("| --- | --- | --- | --- |");
    lines.push(spreadRow("`runware status` (daemon running)", v.cliStatusMs, 1));
    lines.push(spreadRow("`node -e ''`", v.nodeMs, 1));
  }
  if (r.pressure) lines.push(...pressureSection(r.pressure));
  if (r.async) lines.push(...asyncSection(r.async));
  if (r.listen) lines.push(...listenSection(r.listen));
  return lines.join("\n");
}

const BEGIN = "<!-- bench:begin (generated by npm run bench; edit outside these markers) -->";
const END = "<!-- bench:end -->";

const SKELETON = `# Benchmarks

\`npm run bench\` (scripts/bench.ts). The section between the markers is rewritten by each full run.

${BEGIN}
${END}
`;

/** Replace the generated section of `mdPath` (created if missing) and write the JSON beside it. */
export function writeReport(mdPath: string, jsonPath: string, r: Results): void {
  mkdirSync(dirname(mdPath), { recursive: true });
  let doc = existsSync(mdPath) ? readFileSync(mdPath, "utf8") : SKELETON;
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) doc = `${doc.trimEnd()}\n\n${BEGIN}\n${END}\n`;
  const start = doc.indexOf(BEGIN) + BEGIN.length;
  const end = doc.indexOf(END);
  doc = `${doc.slice(0, start)}\n${markdown(r)}\n${doc.slice(end)}`;
  writeFileSync(mdPath, doc);
  writeFileSync(jsonPath, `${JSON.stringify(r, null, 2)}\n`);
}
