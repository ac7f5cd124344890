/**
 * One chaos run: a simulator, a TCP proxy in front of it, a real in-process Daemon (its engine on a
 * TrackingClock, its logs captured at `trace`), several concurrent clients of every kind, and seeded
 * faults from the simulator and the proxy while they work. Then the checks of invariants.ts, the
 * leak checks, and a report. Used by `node dist/scripts/chaos.js` and test/reliability/chaos.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultSettings } from "../../src/local/config.js";
import { Daemon } from "../../src/local/daemon.js";
import { SimServer, type SimCounters } from "../../src/sim/index.js";
import { TrackingClock } from "../../src/util/clock.js";
import { LogCapture, watchUpstreamForSecrets } from "./capture.js";
import { daemonConfigFor, SECRET_KEY, type ChaosConfig, type FaultKind } from "./config.js";
import { injectFaults, liftAll, measure, planFaults, type FaultRecord, type Timeline } from "./faults.js";
import { checkInvariants, type Violation } from "./invariants.js";
import { Ledger } from "./ledger.js";
import { request } from "./local-client.js";
import { TcpProxy } from "./proxy.js";
import { quiesce, sample, settleHandles } from "./resources.js";
import { SeededRng } from "./rng.js";
import { makeSpecs, runDirect, runHttp, runNdjson, type WorkloadEnv } from "./workload.js";
import { runWs } from "./workload-ws.js";
import { sleep, within } from "./time.js";

export interface ChaosReport {
  seed: number;
  config: Omit<ChaosConfig, "seed">;
  wallMs: number;
  tasks: {
    total: number;
    byVia: Record<string, number>;
    async: number;
    done: number;
    failed: number;
    inDoubt: number;
    unsettled: number;
    results: number;
    failedByCode: Record<string, number>;
  };
  upstream: {
    submissions: number;
    maxReceived: number;
    getResponses: number;
    conflicts: number;
    connections: number;
    auths: number;
    resumed: number;
    fresh: number;
    maxOutstanding: number;
    garbageSent: number;
  };
  retries: number;
  faults: FaultRecord[];
  /** The engine's state changes (ms since the run started), for a diagnosis. */
  timeline: Array<{ t: number; to: string; reason: string }>;
  faultsByKind: Partial<Record<FaultKind, { count: number; detected: number; detectMs: number[]; recoverMs: number[] }>>;
  logs: { lines: number; bytes: number; byLevel: Record<string, number>; secretLeaks: number };
  leaks: {
    timersLeft: number;
    pendingLeft: number;
    extraHandles: Record<string, number>;
    heapGrowthBytes: number;
    heapBefore: number;
    heapAfter: number;
  };
  violations: Violation[];
}

const SECRETS = [SECRET_KEY];
/** The warm-up run before the baseline is taken. */
const WARM_UP = { tasks: 40, faults: 3 } as const;

/** Run the whole thing; never throws for a broken invariant (those are in `violations`). */
export async function runChaos(cfg: ChaosConfig, log: (line: string) => void = () => {}): Promise<ChaosReport> {
  // A tiny run first, so that code compiled and modules initialised on first use are in the baseline.
  const warm = await runInner({ ...cfg, ...WARM_UP }, () => {});
  await quiesce();
  const before = sample();
  const report = await runInner(cfg, log);
  report.violations.push(...warm.violations.map((v) => ({ ...v, invariant: `${v.invariant} (in the warm-up run)` })));
  // Every object of the run is unreachable now: what the heap still holds above the baseline leaked.
  await quiesce();
  report.leaks.extraHandles = await settleHandles(before, 3_000);
  const after = sample();
  report.leaks.heapBefore = before.heapUsed;
  report.leaks.heapAfter = after.heapUsed;
  report.leaks.heapGrowthBytes = after.heapUsed - before.heapUsed;
  if (Object.keys(report.leaks.extraHandles).length > 0) {
    report.violations.push({ invariant: "no live handle afterwards", count: 1, examples: [JSON.stringify(report.leaks.extraHandles)] });
  }
  if (report.leaks.heapGrowthBytes > cfg.heapMarginBytes) {
    report.violations.push({
      invariant: "memory back near baseline",
      count: 1,
      examples: [
        `heap grew by ${(report.leaks.heapGrowthBytes / 1048576).toFixed(1)} MiB (margin ${(cfg.heapMarginBytes / 1048576).toFixed(0)} MiB)`,
      ],
    });
  }
  return report;
}

async function runInner(cfg: ChaosConfig, log: (line: string) => void): Promise<ChaosReport> {
  const t0 = performance.now();
  const root = new SeededRng(cfg.seed);
  const rngs = { faults: root.fork("faults"), engine: root.fork("engine"), sim: root.fork("sim"), work: root.fork("workload") };
  const dir = mkdtempSync(join(tmpdir(), "rwd-chaos-"));
  const sim = await SimServer.start({ workMs: cfg.workMs, seed: rngs.sim.int(1, 0x7fff_ffff), split: "random" });
  const proxy = await TcpProxy.forUrl(sim.url);
  const capture = new LogCapture(SECRETS);
  const upstreamLeaks = watchUpstreamForSecrets(sim, SECRETS);
  const clock = new TrackingClock();
  const e = cfg.engine;
  const daemonCfg = daemonConfigFor(e, {
    socketPath: join(dir, "run", "daemon.sock"),
    upstreamUrl: proxy.rewrite(sim.url),
    resultRetentionMs: defaultSettings().resultRetentionMs,
  });
  const daemon = await Daemon.start(daemonCfg, { logger: capture.logger(), engine: { ...e, clock, random: () => rngs.engine.next() } });
  const engine = daemon.engine;
  const ledger = new Ledger();
  const timeline: Timeline = { states: [], readies: [] };
  engine.on("state", (to, _from, reason) => timeline.states.push({ t: performance.now(), to, reason }));
  engine.connection.on("ready", (info) =>
    timeline.readies.push({ t: performance.now(), resumed: info.resumed, sessionUUID: info.sessionUUID }),
  );
  engine.on("settled", (o) => ledger.engineSettled(o));
  const violations: Violation[] = [];
  const fail = (invariant: string, detail: string) => violations.push({ invariant, count: 1, examples: [detail] });

  await waitUntil(() => engine.stats().upstream.state === "ready", 5_000);
  let stopping = false;
  const env: WorkloadEnv = {
    socketPath: daemon.socketPath,
    engine,
    ledger,
    cfg,
    secrets: SECRETS,
    clientKey: SECRET_KEY,
    stopped: () => stopping,
  };

  // The clients, each with its own seeded task list and share of the total.
  const kinds = [
    ...Array.from({ length: cfg.clients.direct }, (_, i) => ({ name: `direct:${i}`, run: runDirect })),
    ...Array.from({ length: cfg.clients.http }, (_, i) => ({ name: `http:${i}`, run: runHttp })),
    ...Array.from({ length: cfg.clients.ndjson }, (_, i) => ({ name: `ndjson:${i}`, run: runNdjson })),
    ...Array.from({ length: cfg.clients.ws }, (_, i) => ({ name: `ws:${i}`, run: runWs })),
  ];
  const share = Math.ceil(cfg.tasks / kinds.length);
  let assigned = 0;
  const clients = kinds.map((k) => {
    const rng = rngs.work.fork(k.name);
    const specs = makeSpecs(rng, Math.min(share, cfg.tasks - assigned), k.name, cfg);
    assigned += specs.length;
    return k
      .run(env, k.name, specs, rng)
      .catch((err: unknown) => ledger.anomaly(`${k.name} crashed: ${(err as Error).stack ?? String(err)}`));
  });
  const plans = planFaults(rngs.faults, { ...cfg, tasks: assigned });
  log(`chaos: seed ${cfg.seed}, ${assigned} tasks from ${kinds.length} clients, ${plans.length} faults planned`);
  const faultRun = injectFaults(plans, { sim, proxy }, cfg, timeline, ledger, () => stopping);

  const progress = setInterval(
    () => log(`  ${ledger.settled}/${assigned} settled, ${engine.pendingCount} pending, state ${engine.stats().upstream.state}`),
    5_000,
  );
  const finished = await within(Promise.all(clients), cfg.deadlineMs);
  clearInterval(progress);
  if (!finished) {
    const hung = ledger.unsettled();
    const shown = hung
      .slice(0, 5)
      .map((t) => `${t.uuid} (${t.client}): engine ${JSON.stringify(engine.get(t.uuid)?.state ?? "not pending")}`);
    fail("no task hangs", `${hung.length} tasks unanswered after ${cfg.deadlineMs} ms: ${shown.join("; ")}`);
  }
  stopping = true;
  ledger.release();
  const faults = await faultRun;
  liftAll({ sim, proxy });
  await sleep(cfg.settleMs);

  // One upstream WebSocket: once the dust settles, exactly one connection is open (docs/local-api.md §3.1).
  const pendingLeft = engine.pendingCount;
  if (finished && pendingLeft > 0) fail("no task left pending", `${pendingLeft} tasks still pending in the engine`);
  // Every slot back: with nothing pending, nothing may count as in flight or queued (a leaked slot
  // silently lowers maxInFlight for good; with maxInFlight 1 every later task would time out).
  const slots = engine.stats().tasks;
  if (finished && pendingLeft === 0 && (slots.inFlight !== 0 || slots.queued !== 0)) {
    fail("no in-flight slot leaked", `nothing pending, yet the engine counts ${slots.inFlight} in flight and ${slots.queued} queued`);
  }
  const oneLink = await waitUntil(() => sim.counters.open === 1 && proxy.open === 1 && engine.stats().upstream.state === "ready", 3_000);
  if (!oneLink)
    fail(
      "one upstream WebSocket",
      `after the run: sim sees ${sim.counters.open} connections, proxy ${proxy.open}, state ${engine.stats().upstream.state}`,
    );
  const status = await request(daemon.socketPath, { path: "/v1/status", timeoutMs: 5_000 });
  if (status.status !== 200 || status.json?.["upstream"]?.["state"] !== "ready")
    fail("the daemon stays up", `status ${status.status}: ${status.text.slice(0, 200)}`);
  ledger.scan(status.text, SECRETS);
  const counters: SimCounters = sim.counters;

  await daemon.stop("chaos over");
  await within(Promise.all(clients), 5_000);
  const timersLeft = clock.pending;
  if (timersLeft > 0) fail("no live timer afterwards", `${timersLeft} engine timers still pending after stop`);
  await proxy.close();
  await sim.close();
  const fileLeaks = scanFiles(dir, SECRETS);
  if (fileLeaks.length > 0) fail("the API key never appears", `in files: ${fileLeaks.join(", ")}`);
  rmSync(dir, { recursive: true, force: true });
  if (capture.leakCount > 0) fail("the API key never appears", `${capture.leakCount} log lines, e.g. ${capture.leaks[0]}`);
  if (upstreamLeaks.leaks.length > 0)
    fail("the API key never appears", `upstream, outside the daemon's authentication: ${upstreamLeaks.leaks[0]}`);

  measure(faults, timeline);
  const injectedCodes = new Set(
    faults.filter((f) => f.kind === "transient" || f.kind === "permanent").map((f) => String(f.params["code"])),
  );
  violations.unshift(
    ...checkInvariants({
      ledger,
      counters,
      engine: e,
      retries: capture.retriesByTask(),
      injectedCodes,
      timeline,
      faults,
      detectionSlackMs: cfg.detectionSlackMs,
    }),
  );

  const tasks = [...ledger.tasks.values()];
  const failedByCode: Record<string, number> = {};
  for (const t of tasks)
    if (t.state === "failed") for (const c of new Set(t.errors.map((x) => x.code))) failedByCode[c] = (failedByCode[c] ?? 0) + 1;
  const byVia: Record<string, number> = {};
  for (const t of tasks) byVia[t.via] = (byVia[t.via] ?? 0) + 1;
  const faultsByKind: ChaosReport["faultsByKind"] = {};
  for (const f of faults) {
    const k = (faultsByKind[f.kind] ??= { count: 0, detected: 0, detectMs: [], recoverMs: [] });
    k.count++;
    if (f.detectMs !== undefined) {
      k.detected++;
      // Detection times are those of faults that hit a ready link; one that hits a reconnect in
      // progress is found by the auth or handshake timeout instead.
      if (f.linkAtInjection === "ready") k.detectMs.push(f.detectMs);
    }
    if (f.recoverMs !== undefined) k.recoverMs.push(f.recoverMs);
  }
  const received = Object.values(counters.received);
  return {
    seed: cfg.seed,
    config: { ...cfg },
    wallMs: performance.now() - t0,
    tasks: {
      total: tasks.length,
      byVia,
      async: tasks.filter((t) => t.async).length,
      done: tasks.filter((t) => t.state === "done").length,
      failed: tasks.filter((t) => t.state === "failed").length,
      inDoubt: tasks.filter((t) => t.state === "in-doubt").length,
      unsettled: tasks.filter((t) => t.finals === 0).length,
      results: tasks.reduce((s, t) => s + (t.state === "done" ? t.items.length : 0), 0),
      failedByCode,
    },
    upstream: {
      submissions: received.reduce((a, b) => a + b, 0),
      maxReceived: Math.max(0, ...received),
      getResponses: Object.values(counters.getResponses).reduce((a, b) => a + b, 0),
      conflicts: counters.conflicts,
      connections: counters.connections,
      auths: counters.auths.length,
      resumed: timeline.readies.filter((r) => r.resumed).length,
      fresh: timeline.readies.filter((r) => !r.resumed).length,
      maxOutstanding: counters.maxOutstanding,
      garbageSent: counters.garbageSent,
    },
    retries: capture.retries.length,
    faults: faults.map((f) => ({ ...f, injectedAt: f.injectedAt - t0, liftedAt: f.liftedAt - t0 })),
    timeline: timeline.states.map((x) => ({ ...x, t: x.t - t0 })),
    faultsByKind,
    logs: { lines: capture.lines, bytes: capture.bytes, byLevel: capture.byLevel, secretLeaks: capture.leakCount },
    leaks: { timersLeft, pendingLeft, extraHandles: {}, heapGrowthBytes: 0, heapBefore: 0, heapAfter: 0 },
    violations,
  };
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/** Files under `dir` whose bytes contain a secret (the socket is skipped: it has no content). */
function scanFiles(dir: string, secrets: readonly string[]): string[] {
  const hits: string[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    const text = readFileSync(path).toString("latin1");
    if (secrets.some((s) => text.includes(s))) hits.push(path);
  }
  return hits;
}
