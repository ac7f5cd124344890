/**
 * `npm run bench`: the daemon against a direct `ws` client and @runware/sdk-js, all against the
 * bundled simulator in its own process with zero work time (issue 6). Prints a markdown table and,
 * for a full run, writes it to docs/benchmarks.md (between markers) and docs/benchmarks.json.
 * The pressure phase (issue 11) loads one daemon at its default budgets with gigabytes and
 * reports its peak RSS. The async phase (issue 12) runs videos beside images at --max-in-flight 4.
 * Never part of `npm test`. Loopback and temp-dir sockets only; every child
 * is killed at the end.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { BENCH, FULL, QUICK } from "./bench/config.js";
import { asyncMix } from "./bench/async-mix.js";
import { listenPhase } from "./bench/listen-phase.js";
import * as phases from "./bench/phases.js";
import { pressure } from "./bench/pressure.js";
import { cleanup, startDaemon, startSim } from "./bench/procs.js";
import { mergeRun, PHASES, type Phase } from "./bench/report-merge.js";
import { machine, markdown, targets, writeReport, type Results } from "./bench/report.js";

const USAGE = `usage: node dist/scripts/bench.js [options]     (npm run bench builds first)
  --quick            ~1 minute smoke run with smaller counts; writes nothing unless --write
  --only LIST        some phases only, comma-separated: ${PHASES.join(",")}
  --sdk-deadlink     also measure sdk-js detecting a frozen link at its minimum heartbeat (adds ~40 s)
  --profile DIR      run the main daemon under --cpu-prof, profiles written to DIR when it stops
  --write / --no-write   force or suppress writing docs/benchmarks.{md,json}
  --merge            write this run's phases into the saved results (docs/benchmarks.json) instead of replacing them
  --render FILE      no run: re-render a results JSON (e.g. docs/benchmarks.json) into docs/benchmarks.md
  -h, --help`;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      only: { type: "string" },
      "sdk-deadlink": { type: "boolean" },
      profile: { type: "string" },
      write: { type: "boolean" },
      "no-write": { type: "boolean" },
      merge: { type: "boolean" },
      render: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.render) {
    const saved = JSON.parse(readFileSync(values.render, "utf8")) as Results;
    const results: Results = { ...saved, targets: targets(saved) };
    process.stdout.write(`${markdown(results)}\n`);
    if (!values["no-write"]) writeReport(resolve(ROOT, "docs/benchmarks.md"), resolve(ROOT, "docs/benchmarks.json"), results);
    return 0;
  }
  const only = values.only ? (values.only.split(",").map((s) => s.trim()) as Phase[]) : [...PHASES];
  const unknown = only.filter((p) => !PHASES.includes(p));
  if (unknown.length > 0) throw new Error(`unknown phase(s): ${unknown.join(", ")}`);
  const quick = values.quick === true;
  const scale = quick ? QUICK : FULL;
  const merge = values.merge === true;
  const write = values["no-write"] ? false : values.write === true || merge || (!quick && only.length === PHASES.length);

  const t0 = performance.now();
  const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
  const m = machine();
  log(`Node ${m.node}, ${m.cpu}, ${m.cores} cores, load ${m.loadavg.join(" / ")}`);
  if ((m.loadavg[0] ?? 0) > m.cores * BENCH.busyLoadShare) {
    log(`warning: the machine is busy (1-minute load ${m.loadavg[0]} on ${m.cores} cores); figures will be noisy`);
  }

  const sim = await startSim("sim", ["--work-ms", "0"]);
  const nodeArgs = values.profile ? ["--cpu-prof", `--cpu-prof-dir=${resolve(values.profile)}`] : [];
  const daemon = await startDaemon("daemon", sim.url, ["--max-in-flight", String(BENCH.maxInFlight)], nodeArgs);
  log(`simulator ${sim.url} (pid ${sim.child.pid}); daemon ${daemon.socket} (pid ${daemon.child.pid})`);
  const ctx: phases.Ctx = { scale, sim, daemon, log };

  const partial: Omit<Results, "targets" | "durationS" | "loadAfter"> = {
    mode: quick ? "quick" : "full",
    startedAt: new Date().toISOString(),
    machine: m,
  };
  // Start-up first: fresh processes are timed best while the daemon is not collecting the garbage of a load run.
  if (only.includes("startup")) partial.startup = await phases.startup(ctx);
  if (only.includes("latency")) partial.latency = await phases.latency(ctx);
  if (only.includes("throughput")) partial.throughput = await phases.throughput(ctx);
  // The shared daemon is done (its profile, if any, is written as it exits).
  await daemon.child.kill();
  if (values.profile) log(`CPU profile of the daemon written to ${resolve(values.profile)}`);
  if (only.includes("memory")) partial.memory = await phases.memory(ctx);
  if (only.includes("cold")) partial.cold = await phases.cold(ctx);
  if (only.includes("deadlink")) partial.deadLink = await phases.deadLink(ctx, values["sdk-deadlink"] === true);
  // Timed by the render (a minute at full scale), not by CPU: before the gigabytes of pressure.
  if (only.includes("async")) partial.async = await asyncMix(scale.async, log);
  if (only.includes("listen")) partial.listen = await listenPhase(scale.listen, log);
  // Last: it moves gigabytes, and the machine should be quiet for the timed phases.
  if (only.includes("pressure")) partial.pressure = await pressure(scale.pressure, log);

  const base = { ...partial, durationS: (performance.now() - t0) / 1000, loadAfter: loadavg().map((x) => Math.round(x * 100) / 100) };
  const results: Results = { ...base, targets: targets(base) };
  process.stdout.write(`\n${markdown(results)}\n`);
  if (write) {
    const json = resolve(ROOT, "docs/benchmarks.json");
    const saved = merge ? (JSON.parse(readFileSync(json, "utf8")) as Results) : undefined;
    writeReport(resolve(ROOT, "docs/benchmarks.md"), json, saved ? mergeRun(saved, results, only) : results);
    log(`wrote docs/benchmarks.md and docs/benchmarks.json${saved ? ` (${only.join(", ")} merged into the saved run)` : ""}`);
  }
  log(`done in ${results.durationS.toFixed(0)} s`);
  return 0;
}

/** One exit path: kill every child, remove temp dirs, exit with the first reason's code. */
let exiting: Promise<never> | undefined;
function stop(code: number): Promise<never> {
  exiting ??= cleanup().then(() => process.exit(code));
  return exiting;
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n[bench] ${sig}: stopping every child process\n`);
    void stop(130);
  });
}

main().then(
  (code) => stop(code),
  (err: unknown) => {
    // After a signal, the run fails because its children are gone: that is not news.
    if (!exiting) process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void stop(1);
  },
);
