/**
 * The listener phase (issue 17): what `--listen` costs the Unix socket path. Two `--no-journal`
 * daemons against one zero-work simulator, one with `--listen 127.0.0.1:0`, both loaded over
 * their Unix sockets (64 HTTP clients, one task a request) in rounds whose order alternates (the
 * shared simulator's state grows, and a later run is slower for it): the daemon's CPU per task,
 * throughput, and each round's paired change. Part of `npm run bench`; `npm run bench:listen`
 * runs it alone.
 */
import { join } from "node:path";
import { daemonHttp } from "./contenders.js";
import { closedLoop } from "./load.js";
import { cpuMs, startDaemon, startSim, tempDir } from "./procs.js";
import { median, pairedChange } from "./stats.js";

export interface ListenScale {
  tasks: number;
  rounds: number;
}

export interface ListenResult {
  clients: number;
  tasksPerRun: number;
  rounds: number;
  unixOnly: { tasksPerSec: number; cpuUsPerTask: number };
  withListener: { tasksPerSec: number; cpuUsPerTask: number };
  throughputChangePerRoundPct: ReturnType<typeof pairedChange>;
  cpuChangePerRoundPct: ReturnType<typeof pairedChange>;
}

const CLIENTS = 64;

export async function listenPhase(scale: ListenScale, log: (line: string) => void): Promise<ListenResult> {
  const sim = await startSim("sim(listen)", ["--work-ms", "0"]);
  const args = ["--max-in-flight", "256", "--no-journal"];
  const daemons = {
    unix: await startDaemon("daemon(unix only)", sim.url, args),
    listen: await startDaemon("daemon(--listen)", sim.url, [...args, "--listen", "127.0.0.1:0", "--token-file", join(tempDir(), "token")]),
  };
  const load = { unix: daemonHttp("http", daemons.unix.socket, CLIENTS), listen: daemonHttp("http", daemons.listen.socket, CLIENTS) };
  const rate = { unix: [] as number[], listen: [] as number[] };
  const cpu = { unix: [] as number[], listen: [] as number[] };
  for (const k of ["unix", "listen"] as const) await closedLoop(load[k].runners, 2_000, 1); // warm-up
  for (let r = 0; r < scale.rounds; r++) {
    const order = r % 2 === 0 ? (["unix", "listen"] as const) : (["listen", "unix"] as const);
    for (const k of order) {
      const cpu0 = cpuMs(daemons[k].child.pid);
      const run = await closedLoop(load[k].runners, scale.tasks, 1);
      rate[k].push(run.tasksPerSec);
      cpu[k].push(((cpuMs(daemons[k].child.pid) - cpu0) * 1000) / scale.tasks);
    }
    log(
      `listen: round ${r + 1}/${scale.rounds}: unix ${Math.round(rate.unix.at(-1)!)} tasks/s, --listen ${Math.round(rate.listen.at(-1)!)} tasks/s`,
    );
  }
  for (const d of Object.values(daemons)) await d.child.kill();
  await sim.child.kill();
  return {
    clients: CLIENTS,
    tasksPerRun: scale.tasks,
    rounds: scale.rounds,
    unixOnly: { tasksPerSec: median(rate.unix), cpuUsPerTask: median(cpu.unix) },
    withListener: { tasksPerSec: median(rate.listen), cpuUsPerTask: median(cpu.listen) },
    throughputChangePerRoundPct: pairedChange(rate.unix, rate.listen),
    cpuChangePerRoundPct: pairedChange(cpu.unix, cpu.listen),
  };
}
