/**
 * The journal's cost and its recovery (issue 15), run by `npm run bench:journal`: throughput (64
 * HTTP clients, one task a request), the daemon's CPU per task and sequential p50 latency with the
 * journal on and off, two daemons measured in alternating rounds against one zero-work simulator; the journal's bytes per task; and the time a daemon takes,
 * after a SIGKILL, to take up 10,000 unfinished tasks on start (its "journal: took up" line).
 */
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../../src/client/index.js";
import { BENCH } from "./config.js";
import { daemonHttp } from "./contenders.js";
import { closedLoop, sequential } from "./load.js";
import { CLI, cleanup, cpuMs, startDaemon, startSim, tempDir, waitUntil } from "./procs.js";
import { latencySummary, median, pairedChange } from "./stats.js";

const CLIENTS = 64;
const TASKS = Number(process.env["JOURNAL_BENCH_TASKS"] ?? 10_000);
/** Rounds of (off, on): alternating the two daemons spreads the machine's drift over both. */
const ROUNDS = Number(process.env["JOURNAL_BENCH_ROUNDS"] ?? 5);
const LATENCY_REQUESTS = 1_000;
const RECOVER = Number(process.env["JOURNAL_BENCH_RECOVER"] ?? 10_000);

const dirBytes = (dir: string) => readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);

interface Side {
  tasksPerSec: number[];
  cpuUsPerTask: number[];
  p50Ms: number[];
}

interface SideSummary {
  tasksPerSec: number;
  /** The daemon's own CPU time (user + system) per task: what the journal costs, with less noise than a rate. */
  cpuUsPerTask: number;
  p50Ms: number;
}

const summary = (s: Side): SideSummary => ({
  tasksPerSec: median(s.tasksPerSec),
  cpuUsPerTask: median(s.cpuUsPerTask),
  p50Ms: median(s.p50Ms),
});

async function steady(
  upstream: string,
): Promise<{ off: SideSummary; on: SideSummary; paired: ReturnType<typeof pairedChange>; bytesPerTask: number }> {
  const args = ["--max-in-flight", "256"];
  const daemons = {
    off: await startDaemon("daemon(journal off)", upstream, [...args, "--no-journal"]),
    on: await startDaemon("daemon(journal on)", upstream, args),
  };
  const sides = {
    off: { tasksPerSec: [], cpuUsPerTask: [], p50Ms: [] } as Side,
    on: { tasksPerSec: [], cpuUsPerTask: [], p50Ms: [] } as Side,
  };
  const load = { off: daemonHttp("http", daemons.off.socket, CLIENTS), on: daemonHttp("http", daemons.on.socket, CLIENTS) };
  let tasksOn = 0;
  for (const k of ["off", "on"] as const) {
    await closedLoop(load[k].runners, 2_000, 1); // warm-up
    tasksOn += k === "on" ? 2_000 : 0;
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of ["off", "on"] as const) {
      const cpu0 = cpuMs(daemons[k].child.pid);
      const run = await closedLoop(load[k].runners, TASKS, 1);
      sides[k].tasksPerSec.push(run.tasksPerSec);
      sides[k].cpuUsPerTask.push(((cpuMs(daemons[k].child.pid) - cpu0) * 1000) / TASKS);
      sides[k].p50Ms.push(latencySummary(await sequential(load[k].runners[0]!, LATENCY_REQUESTS)).p50);
      if (k === "on") tasksOn += TASKS + LATENCY_REQUESTS;
    }
  }
  const bytesPerTask = dirBytes(join(daemons.on.socket, "..", "state")) / tasksOn;
  for (const d of Object.values(daemons)) d.child.proc.kill("SIGKILL");
  return {
    off: summary(sides.off),
    on: summary(sides.on),
    paired: pairedChange(sides.off.tasksPerSec, sides.on.tasksPerSec),
    bytesPerTask,
  };
}

function daemonProcess(upstream: string, socket: string, stateDir: string) {
  const child = spawn(
    process.execPath,
    [CLI, "daemon", "--upstream", upstream, "--socket", socket, "--state-dir", stateDir, "--max-in-flight", "256", "--log-level", "info"],
    {
      env: { ...process.env, RUNWARE_API_KEY: BENCH.apiKey },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  return { child, out: () => out };
}

async function recovery(): Promise<{ tasks: number; adoptMs: number; startToListeningMs: number }> {
  // Tasks that never finish, so every one is unfinished when the daemon dies.
  const slow = await startSim("sim(slow)", ["--work-ms", "3600000"]);
  const dir = tempDir();
  const socket = join(dir, "d.sock");
  const stateDir = join(dir, "state");
  const first = daemonProcess(slow.url, socket, stateDir);
  await waitUntil("first daemon listening", () => first.out().includes("listening"));
  const client = connect({ socket });
  const per = 500;
  for (let i = 0; i < RECOVER; i += per) {
    const tasks = Array.from({ length: Math.min(per, RECOVER - i) }, () => ({
      taskType: "imageInference",
      model: "runware:101@1",
      positivePrompt: "a lighthouse at dusk",
      width: 512,
      height: 512,
    }));
    void client.run(tasks).catch(() => undefined);
  }
  await waitUntil("every task accepted", async () => {
    const s = await client.status();
    return s.tasks.queued + s.tasks.inFlight >= RECOVER;
  });
  await client.status(); // one more answer: the turn that accepted the last task (and committed it) is over
  first.child.kill("SIGKILL");
  await new Promise((r) => first.child.once("exit", r));
  const t0 = performance.now();
  const second = daemonProcess(slow.url, socket, stateDir);
  await waitUntil("second daemon listening", () => second.out().includes("listening"), 120_000);
  const startToListeningMs = performance.now() - t0;
  const line = second
    .out()
    .split("\n")
    .find((l) => l.includes("journal: took up"));
  const parsed = line ? (JSON.parse(line) as { adopted: number; ms: number }) : undefined;
  second.child.kill("SIGKILL");
  return { tasks: parsed?.adopted ?? 0, adoptMs: parsed?.ms ?? Number.NaN, startToListeningMs };
}

try {
  const sim = await startSim("sim(journal)", ["--work-ms", "0"]);
  const { off, on, paired, bytesPerTask } = await steady(sim.url);
  const rec = await recovery();
  const result = {
    clients: CLIENTS,
    tasksPerRun: TASKS,
    rounds: ROUNDS,
    journalOff: off,
    journalOn: on,
    throughputChangePct: ((on.tasksPerSec - off.tasksPerSec) / off.tasksPerSec) * 100,
    throughputChangePerRoundPct: paired,
    cpuChangePct: ((on.cpuUsPerTask - off.cpuUsPerTask) / off.cpuUsPerTask) * 100,
    p50DeltaMs: on.p50Ms - off.p50Ms,
    bytesPerTask,
    recovery: rec,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await cleanup();
}
