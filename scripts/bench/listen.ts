/**
 * What the loopback TCP listener (issue 17) costs the Unix socket path, run by `npm run
 * bench:listen`: two daemons against one zero-work simulator, one with `--listen 127.0.0.1:0`,
 * one without, both loaded over their Unix sockets (64 HTTP clients, one task a request) in
 * rounds whose order alternates; the daemon's CPU per task and throughput, and each round's paired change.
 */
import { join } from "node:path";
import { daemonHttp } from "./contenders.js";
import { closedLoop } from "./load.js";
import { cleanup, cpuMs, startDaemon, startSim, tempDir } from "./procs.js";
import { median, pairedChange } from "./stats.js";

const CLIENTS = 64;
const TASKS = Number(process.env["LISTEN_BENCH_TASKS"] ?? 10_000);
const ROUNDS = Number(process.env["LISTEN_BENCH_ROUNDS"] ?? 5);

async function main(): Promise<void> {
  const sim = await startSim("sim", ["--work-ms", "0"]);
  const args = ["--max-in-flight", "256", "--no-journal"];
  const tokenFile = join(tempDir(), "token");
  const daemons = {
    unix: await startDaemon("daemon(unix only)", sim.url, args),
    listen: await startDaemon("daemon(--listen)", sim.url, [...args, "--listen", "127.0.0.1:0", "--token-file", tokenFile]),
  };
  const load = { unix: daemonHttp("http", daemons.unix.socket, CLIENTS), listen: daemonHttp("http", daemons.listen.socket, CLIENTS) };
  const rate = { unix: [] as number[], listen: [] as number[] };
  const cpu = { unix: [] as number[], listen: [] as number[] };
  for (const k of ["unix", "listen"] as const) await closedLoop(load[k].runners, 2_000, 1); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    // Which goes first alternates: the shared simulator's state grows, and a later run is slower for it.
    const order = r % 2 === 0 ? (["unix", "listen"] as const) : (["listen", "unix"] as const);
    for (const k of order) {
      const cpu0 = cpuMs(daemons[k].child.pid);
      const run = await closedLoop(load[k].runners, TASKS, 1);
      rate[k].push(run.tasksPerSec);
      cpu[k].push(((cpuMs(daemons[k].child.pid) - cpu0) * 1000) / TASKS);
    }
  }
  const result = {
    clients: CLIENTS,
    tasksPerRun: TASKS,
    rounds: ROUNDS,
    unixOnly: { tasksPerSec: median(rate.unix), cpuUsPerTask: median(cpu.unix) },
    withListener: { tasksPerSec: median(rate.listen), cpuUsPerTask: median(cpu.listen) },
    throughputChangePerRoundPct: pairedChange(rate.unix, rate.listen),
    cpuChangePerRoundPct: pairedChange(cpu.unix, cpu.listen),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

try {
  await main();
} finally {
  await cleanup();
}
