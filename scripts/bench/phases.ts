/**
 * The six measurements of issue 6. Each phase starts what it needs beyond the shared simulator and
 * daemon, and stops it again before returning (the entry's cleanup catches what a failure leaves).
 */
import { Runware } from "@runware/sdk-js";
import type WebSocket from "ws";
import { CLIENT_DEFAULTS } from "../../src/cli/defaults.js";
import { connect } from "../../src/client/index.js";
import { BENCH, type BenchScale } from "./config.js";
import { daemonHttp, localWsUrl, makeTasks, sdkContender, wsContender, type Contender } from "./contenders.js";
import { closedLoop, sequential } from "./load.js";
import {
  CLI,
  cpuMs,
  rssBytes,
  selfCpuMs,
  SDK_ONESHOT,
  sleep,
  startDaemon,
  startSim,
  timeFreshProcess,
  waitUntil,
  type DaemonProc,
  type Sim,
} from "./procs.js";
import { latencySummary, median, spread, type LatencySummary, type Spread } from "./stats.js";

export interface Ctx {
  scale: BenchScale;
  /** The zero-work simulator every steady-state contender talks to. */
  sim: Sim;
  /** The daemon under test (--max-in-flight 256) on that simulator. */
  daemon: DaemonProc;
  log(msg: string): void;
}

/** CPU time per task (µs) in each process of a run: where a 2-core machine's time goes. */
export interface CpuPerTask {
  client: number;
  daemon: number;
  sim: number;
}

function cpuMeter(ctx: Ctx): (run: () => Promise<void>, n: number) => Promise<CpuPerTask> {
  const now = (): CpuPerTask => ({ client: selfCpuMs(), daemon: cpuMs(ctx.daemon.child.pid), sim: cpuMs(ctx.sim.child.pid) });
  return async (run, n) => {
    const a = now();
    await run();
    const b = now();
    return { client: ((b.client - a.client) * 1000) / n, daemon: ((b.daemon - a.daemon) * 1000) / n, sim: ((b.sim - a.sim) * 1000) / n };
  };
}

function medianCpu(list: readonly CpuPerTask[]): CpuPerTask {
  return { client: median(list.map((v) => v.client)), daemon: median(list.map((v) => v.daemon)), sim: median(list.map((v) => v.sim)) };
}

// --- 1. latency -----------------------------------------------------------------------------------

export interface LatencyResult {
  /** Per contender: median over repetitions of each run's percentiles (ms), and CPU per request (µs) in each process. */
  contenders: Record<
    string,
    { p50: Spread; p99: Spread; requestsPerRun: number; reps: number; last: LatencySummary; cpuUsPerRequest: CpuPerTask }
  >;
}

export const LAT = {
  http: "daemon HTTP POST /v1",
  ws: "daemon local WebSocket",
  direct: "direct ws (minimal client)",
  sdk: "@runware/sdk-js direct",
} as const;

export async function latency(ctx: Ctx): Promise<LatencyResult> {
  const { scale, sim, daemon } = ctx;
  const contenders: Contender[] = [
    daemonHttp(LAT.http, daemon.socket, 1),
    await wsContender(LAT.ws, localWsUrl(daemon.socket), BENCH.apiKey, 1, 1),
    await wsContender(LAT.direct, sim.url, BENCH.apiKey, 1, 1),
  ];
  const runs = new Map<string, LatencySummary[]>();
  const cpu = new Map<string, CpuPerTask[]>();
  const meter = cpuMeter(ctx);
  try {
    for (let rep = 0; rep < scale.latencyReps; rep++) {
      // Rotate the order each repetition, so a drifting machine load does not favour one contender.
      for (let i = 0; i < contenders.length; i++) {
        const c = contenders[(i + rep) % contenders.length] as Contender;
        const run = c.runners[0]!;
        await sequential(run, scale.latencyWarmup);
        let samples: number[] = [];
        const used = await meter(async () => {
          samples = await sequential(run, scale.latencyRequests);
        }, scale.latencyRequests);
        const s = latencySummary(samples);
        runs.set(c.name, [...(runs.get(c.name) ?? []), s]);
        cpu.set(c.name, [...(cpu.get(c.name) ?? []), used]);
        ctx.log(`latency ${c.name}: p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`);
      }
    }
  } finally {
    for (const c of contenders) await c.close();
  }
  const sdk = await sdkContender(LAT.sdk, sim.url, BENCH.apiKey, 1);
  try {
    await sequential(sdk.runners[0]!, 3);
    let samples: number[] = [];
    const used = await meter(async () => {
      samples = await sequential(sdk.runners[0]!, scale.sdkLatencyRequests);
    }, scale.sdkLatencyRequests);
    const s = latencySummary(samples);
    runs.set(LAT.sdk, [s]);
    cpu.set(LAT.sdk, [used]);
    ctx.log(`latency ${LAT.sdk}: p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`);
  } finally {
    await sdk.close();
  }
  const out: LatencyResult["contenders"] = {};
  for (const [name, list] of runs) {
    out[name] = {
      p50: spread(list.map((s) => s.p50)),
      p99: spread(list.map((s) => s.p99)),
      requestsPerRun: list[0]?.n ?? 0,
      reps: list.length,
      last: list[list.length - 1] as LatencySummary,
      cpuUsPerRequest: medianCpu(cpu.get(name) ?? []),
    };
  }
  return { contenders: out };
}

// --- 2. throughput --------------------------------------------------------------------------------

export interface ThroughputResult {
  contenders: Record<
    string,
    { tasksPerSec: Spread; tasksPerRun: number; perRequest: number; connections: string; cpuUsPerTask: CpuPerTask }
  >;
}

export const TPUT = {
  httpSingle: "daemon HTTP, 1 task/request",
  httpBatch: `daemon HTTP, ${BENCH.batchSize} tasks/request`,
  ws: "daemon local WebSocket",
  direct: "direct ws (minimal client)",
  sdk: "@runware/sdk-js direct",
} as const;

export async function throughput(ctx: Ctx): Promise<ThroughputResult> {
  const { scale, sim, daemon } = ctx;
  const C = BENCH.concurrency;
  const plan: Array<{ c: Contender; perRequest: number; tasks: number; reps: number; connections: string }> = [
    {
      c: daemonHttp(TPUT.httpSingle, daemon.socket, C),
      perRequest: 1,
      tasks: scale.throughputTasks,
      reps: scale.throughputReps,
      connections: `${C} HTTP keep-alive`,
    },
    {
      c: daemonHttp(TPUT.httpBatch, daemon.socket, C),
      perRequest: BENCH.batchSize,
      tasks: scale.throughputTasks,
      reps: scale.throughputReps,
      connections: `${C} HTTP keep-alive`,
    },
    {
      c: await wsContender(TPUT.ws, localWsUrl(daemon.socket), BENCH.apiKey, C, C),
      perRequest: 1,
      tasks: scale.throughputTasks,
      reps: scale.throughputReps,
      connections: `${C} WebSockets`,
    },
    {
      c: await wsContender(TPUT.direct, sim.url, BENCH.apiKey, 1, C),
      perRequest: 1,
      tasks: scale.throughputTasks,
      reps: scale.throughputReps,
      connections: `1 WebSocket, ${C} in flight`,
    },
    {
      c: await sdkContender(TPUT.sdk, sim.url, BENCH.apiKey, C),
      perRequest: 1,
      tasks: scale.sdkThroughputTasks,
      reps: scale.sdkThroughputReps,
      connections: `1 WebSocket, ${C} in flight`,
    },
  ];
  const runs = new Map<string, number[]>();
  const cpu = new Map<string, CpuPerTask[]>();
  const meter = cpuMeter(ctx);
  try {
    for (const p of plan) {
      const warm = p.c.name === TPUT.sdk ? Math.min(scale.throughputWarmup, p.tasks / 4) : scale.throughputWarmup;
      await closedLoop(p.c.runners, warm, p.perRequest);
    }
    const maxReps = Math.max(...plan.map((p) => p.reps));
    for (let rep = 0; rep < maxReps; rep++) {
      for (let i = 0; i < plan.length; i++) {
        const p = plan[(i + rep) % plan.length]!;
        if ((runs.get(p.c.name)?.length ?? 0) >= p.reps) continue;
        let r = { wallMs: 0, tasksPerSec: 0 };
        const used = await meter(async () => {
          r = await closedLoop(p.c.runners, p.tasks, p.perRequest);
        }, p.tasks);
        cpu.set(p.c.name, [...(cpu.get(p.c.name) ?? []), used]);
        runs.set(p.c.name, [...(runs.get(p.c.name) ?? []), r.tasksPerSec]);
        ctx.log(`throughput ${p.c.name}: ${Math.round(r.tasksPerSec)} tasks/s (${p.tasks} in ${Math.round(r.wallMs)} ms)`);
      }
    }
  } finally {
    for (const p of plan) await p.c.close();
  }
  const out: ThroughputResult["contenders"] = {};
  for (const p of plan) {
    const cpuUsPerTask = medianCpu(cpu.get(p.c.name) ?? []);
    out[p.c.name] = {
      tasksPerSec: spread(runs.get(p.c.name) ?? []),
      tasksPerRun: p.tasks,
      perRequest: p.perRequest,
      connections: p.connections,
      cpuUsPerTask,
    };
  }
  return { contenders: out };
}

// --- 3. memory ------------------------------------------------------------------------------------

export interface MemoryResult {
  freshIdleBytes: number;
  idleBytes: number;
  pendingBytes: number;
  pendingTasks: number;
  bytesPerTask: number;
  warmupTasks: number;
}

async function sampleRss(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < BENCH.memorySamples; i++) {
    xs.push(rssBytes(pid));
    await sleep(BENCH.memorySampleGapMs);
  }
  return median(xs);
}

export async function memory(ctx: Ctx): Promise<MemoryResult> {
  const sim = await startSim("sim(memory)", ["--work-ms", "0"]);
  const daemon = await startDaemon("daemon(memory)", sim.url, ["--max-in-flight", String(BENCH.memoryPendingTasks)]);
  const pending: Array<Promise<unknown>> = [];
  try {
    await sleep(300);
    const freshIdleBytes = await sampleRss(daemon.child.pid);
    // Warm the daemon's code paths (lazy imports, JIT, buffers) before the idle figure, as a daemon that has served work.
    const warmupTasks = BENCH.memoryBatchSize;
    const http = daemonHttp("memory", daemon.socket, 1).runners[0]!;
    for (let i = 0; i < warmupTasks; i += 100) await http(makeTasks(100));
    await sleep(500);
    const idleBytes = await sampleRss(daemon.child.pid);

    await sim.control("setWorkTime", { ms: BENCH.memoryWorkMs });
    const client = connect({ socket: daemon.socket });
    for (let i = 0; i < BENCH.memoryPendingTasks; i += BENCH.memoryBatchSize) {
      // These requests end when the daemon is stopped below; their answers are not the point.
      pending.push(client.run(makeTasks(BENCH.memoryBatchSize)).catch(() => undefined));
    }
    await waitUntil("every task pending upstream", async () => {
      const [st, sc] = await Promise.all([daemon.status(), sim.counters()]);
      return st.tasks.inFlight === BENCH.memoryPendingTasks && sc.outstanding >= BENCH.memoryPendingTasks;
    });
    await sleep(500);
    const pendingBytes = await sampleRss(daemon.child.pid);
    const bytesPerTask = (pendingBytes - idleBytes) / BENCH.memoryPendingTasks;
    ctx.log(
      `memory: idle ${(idleBytes / 2 ** 20).toFixed(1)} MiB, ${BENCH.memoryPendingTasks} pending ${(pendingBytes / 2 ** 20).toFixed(1)} MiB, ${Math.round(bytesPerTask)} B/task`,
    );
    return { freshIdleBytes, idleBytes, pendingBytes, pendingTasks: BENCH.memoryPendingTasks, bytesPerTask, warmupTasks };
  } finally {
    await daemon.child.kill();
    await sim.child.kill();
    await Promise.all(pending);
  }
}

// --- 4. cold one-shot -----------------------------------------------------------------------------

export interface ColdResult {
  latencyMs: number;
  daemonCliMs: Spread;
  sdkScriptMs: Spread;
}

const IMAGE_RE = /imageUUID/;

export async function cold(ctx: Ctx): Promise<ColdResult> {
  const sim = await startSim("sim(cold)", ["--work-ms", "0", "--latency-ms", String(BENCH.coldLatencyMs)]);
  const daemon = await startDaemon("daemon(cold)", sim.url, []);
  try {
    const cli = [CLI, "text-to-image", "--prompt", "a fox", "--width", "128", "--height", "128", "--socket", daemon.socket];
    const sdk = [SDK_ONESHOT, sim.url];
    // One unrecorded run each warms the file cache for both.
    await timeFreshProcess("cli text-to-image", cli, IMAGE_RE);
    await timeFreshProcess("sdk-js one-shot", sdk, IMAGE_RE);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < ctx.scale.coldRuns; i++) {
      a.push(await timeFreshProcess("cli text-to-image", cli, IMAGE_RE));
      b.push(await timeFreshProcess("sdk-js one-shot", sdk, IMAGE_RE));
    }
    ctx.log(`cold: runware text-to-image ${median(a).toFixed(0)} ms, sdk-js script ${median(b).toFixed(0)} ms`);
    return { latencyMs: BENCH.coldLatencyMs, daemonCliMs: spread(a), sdkScriptMs: spread(b) };
  } finally {
    await daemon.child.kill();
    await sim.child.kill();
  }
}

// --- 5. dead link ---------------------------------------------------------------------------------

export interface DeadLinkResult {
  shrunk: { pingMs: number; pongMs: number; maxMissed: number };
  /** Last inbound frame → the daemon leaves `ready`, at the shrunk scale. */
  measuredMs: Spread;
  expectedShrunkMs: number;
  /** ping + maxMissed × pong with the daemon's defaults. */
  defaultMs: number;
  /** sdk-js defaults: 3 × 45 s + 10 s (docs/protocol.md §10.2). */
  sdkDefaultMs: number;
  /** Measured with `--sdk-deadlink` at sdk-js's minimum heartbeatInterval (10 s). */
  sdkMeasuredAtMinMs?: number;
}

export async function deadLink(ctx: Ctx, measureSdk: boolean): Promise<DeadLinkResult> {
  const { pingMs, pongMs, maxMissed } = BENCH.deadLink;
  const sim = await startSim("sim(dead-link)", ["--work-ms", "0"]);
  const daemon = await startDaemon("daemon(dead-link)", sim.url, [
    "--ping-interval-ms",
    String(pingMs),
    "--pong-timeout-ms",
    String(pongMs),
    "--backoff-base-ms",
    "50",
    "--backoff-max-ms",
    "200",
  ]);
  const http = daemonHttp("dead-link", daemon.socket, 1).runners[0]!;
  const times: number[] = [];
  let sdkMeasuredAtMinMs: number | undefined;
  try {
    for (let rep = 0; rep < ctx.scale.deadLinkReps; rep++) {
      await waitUntil("daemon ready", async () => (await daemon.status()).upstream.state === "ready");
      const before = (await daemon.status()).upstream.reconnects;
      await http(makeTasks(1)); // a fresh inbound frame: the worst case starts now
      const t0 = performance.now();
      await sim.control("freeze");
      await waitUntil(
        "the daemon to give up on the frozen link",
        async () => {
          const up = (await daemon.status()).upstream;
          return up.state !== "ready" || up.reconnects > before;
        },
        BENCH.waitTimeoutMs,
        BENCH.statusPollMs,
      );
      times.push(performance.now() - t0);
      await sim.control("unfreeze");
      ctx.log(`dead link: detected after ${times[times.length - 1]!.toFixed(0)} ms (expected ${pingMs + maxMissed * pongMs} ms)`);
    }
    await daemon.child.kill();
    if (measureSdk) sdkMeasuredAtMinMs = await sdkDeadLink(ctx, sim);
  } finally {
    await daemon.child.kill();
    await sim.child.kill();
  }
  const d = BENCH.daemonDefaults;
  const s = BENCH.sdkHeartbeat;
  return {
    shrunk: { pingMs, pongMs, maxMissed },
    measuredMs: spread(times),
    expectedShrunkMs: pingMs + maxMissed * pongMs,
    defaultMs: d.pingMs + d.maxMissed * d.pongMs,
    sdkDefaultMs: s.maxMissed * s.defaultIntervalMs + s.pongMs,
    ...(sdkMeasuredAtMinMs !== undefined ? { sdkMeasuredAtMinMs } : {}),
  };
}

/** sdk-js at its minimum heartbeat (10 s): last frame → it terminates its socket. About 40 s. */
async function sdkDeadLink(ctx: Ctx, sim: Sim): Promise<number> {
  const rw = await Runware.initialize({ apiKey: BENCH.apiKey, url: sim.url, heartbeatInterval: BENCH.sdkHeartbeat.minIntervalMs });
  // Its socket is private; reading it is the only way to see when the SDK gives up.
  const socketOf = () => (rw as unknown as { _ws: WebSocket | null })._ws;
  try {
    await rw.imageInference({ positivePrompt: "a fox", model: CLIENT_DEFAULTS.model, width: 128, height: 128, numberResults: 1 });
    const ws0 = socketOf();
    const t0 = performance.now();
    await sim.control("freeze");
    ctx.log("dead link: waiting for sdk-js to notice (about 40 s)...");
    await waitUntil("sdk-js to drop the frozen link", () => socketOf() !== ws0 || ws0?.readyState !== 1, 90_000, 20);
    const ms = performance.now() - t0;
    ctx.log(`dead link: sdk-js (heartbeatInterval 10 s) detected after ${(ms / 1000).toFixed(1)} s`);
    return ms;
  } finally {
    await rw.disconnect();
    await sim.control("unfreeze");
  }
}

// --- 6. client start-up ---------------------------------------------------------------------------

export interface StartupResult {
  cliStatusMs: Spread;
  nodeMs: Spread;
}

export async function startup(ctx: Ctx): Promise<StartupResult> {
  const status = [CLI, "status", "--socket", ctx.daemon.socket];
  const bare = ["-e", ""];
  await timeFreshProcess("runware status", status, /"upstream"/);
  await timeFreshProcess("node -e ''", bare);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ctx.scale.startupRuns; i++) {
    a.push(await timeFreshProcess("runware status", status, /"upstream"/));
    b.push(await timeFreshProcess("node -e ''", bare));
  }
  ctx.log(`start-up: runware status ${median(a).toFixed(1)} ms, node -e '' ${median(b).toFixed(1)} ms`);
  return { cliStatusMs: spread(a), nodeMs: spread(b) };
}
