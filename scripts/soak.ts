/**
 * `node dist/scripts/soak.js [--minutes N] [--seed N] [--json FILE]`: the daemon under steady load
 * with a fault every few seconds for N minutes (default 10), sampling RSS, heap (after GC), live
 * handles and pending counts. After a warm-up, a least-squares trend of each must stay flat; any
 * broken invariant (a task lost, duplicated, hung, failed with a code nobody injected, a taskUUID
 * upstream nobody submitted, the key in a log line) fails the run too. Exit 0 when it held, 1
 * otherwise. Not part of CI: it is long by design.
 *
 * Everything runs in this process (simulator included), with result retention shortened so that
 * every store reaches its steady size during the warm-up: what grows after that is a leak.
 */
import { writeFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Daemon } from "../src/local/daemon.js";
import { SimServer } from "../src/sim/index.js";
import { TrackingClock } from "../src/util/clock.js";
import { LogCapture } from "./chaos/capture.js";
import { daemonConfigFor, FULL, SECRET_KEY, type FaultKind } from "./chaos/config.js";
import { applyFault, liftAll, paramsFor, type Timeline } from "./chaos/faults.js";
import { outcomeProblems } from "./chaos/invariants.js";
import { Ledger } from "./chaos/ledger.js";
import { TcpProxy } from "./chaos/proxy.js";
import { MiB, sample, type ResourceSample } from "./chaos/resources.js";
import { randomSeed, SeededRng } from "./chaos/rng.js";
import { trend } from "./chaos/trend.js";
import { makeSpecs, runDirect, runHttp, runNdjson, type WorkloadEnv } from "./chaos/workload.js";
import { runWs } from "./chaos/workload-ws.js";
import { sleep, within } from "./chaos/time.js";

/** Every knob of the soak. */
const SOAK = {
  minutes: 10,
  /** Sample (after a forced GC) this often. */
  sampleEveryMs: 5_000,
  /** Samples in the first share of the run (at least one minute, at most three) are warm-up, not judged. */
  warmupShare: 0.25,
  warmupMinMs: 30_000,
  warmupMaxMs: 180_000,
  /** A fault every 2–6 s. */
  faultGapMs: [2_000, 6_000] as const,
  /** Each client runs tasks in chunks (checked and forgotten after each), pausing between them. */
  chunk: 12,
  thinkMs: 60,
  clients: { direct: 1, http: 2, ndjson: 1, ws: 1 },
  /** Finished tasks stay readable (daemon) and known (simulator) this long: short, so both reach steady state early. */
  retentionMs: 20_000,
  /** Growth limits after warm-up (least-squares slope). */
  maxHeapMiBPerMin: 1,
  /** Sockets, servers and other non-timer handles. */
  maxHandlesPerMin: 5,
  /** Timers scale with the tasks retained (the simulator keeps one per task it remembers): relative limit. */
  maxTimersSharePerMin: 0.05,
  /** Soak faults: everything but latency spikes (which only slow the load down). */
  faultWeights: { ...FULL.faultWeights, latency: 0 } as Record<FaultKind, number>,
} as const;

interface Sample extends ResourceSample {
  elapsedMs: number;
  settled: number;
  ratePerSec: number;
  pending: number;
  queued: number;
  inFlight: number;
  stored: number;
  simOutstanding: number;
  state: string;
  timers: number;
  otherHandles: number;
}

const USAGE = `usage: node dist/scripts/soak.js [--minutes N] [--seed N] [--json FILE]
  --minutes N  how long (default ${SOAK.minutes})
  --seed N     the workload and fault schedule (default: random, printed)
  --json FILE  also write every sample and the verdict as JSON`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { minutes: { type: "string" }, seed: { type: "string" }, json: { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const minutes = values.minutes === undefined ? SOAK.minutes : Number(values.minutes);
  const seed = values.seed === undefined ? randomSeed() : Number(values.seed);
  if (!(minutes > 0) || !Number.isInteger(seed)) {
    console.error(USAGE);
    return 2;
  }
  const durationMs = minutes * 60_000;
  const warmupMs = Math.min(SOAK.warmupMaxMs, Math.max(SOAK.warmupMinMs, durationMs * SOAK.warmupShare));
  console.log(
    `soak: seed ${seed}, ${minutes} min (warm-up ${(warmupMs / 1000).toFixed(0)} s), sampling every ${SOAK.sampleEveryMs / 1000} s`,
  );

  const root = new SeededRng(seed);
  const rngs = { faults: root.fork("faults"), engine: root.fork("engine"), work: root.fork("workload") };
  const cfg = { ...FULL, seed, daemonAssignedShare: 0, faultWeights: SOAK.faultWeights };
  const e = cfg.engine;
  const dir = mkdtempSync(join(tmpdir(), "rwd-soak-"));
  const sim = await SimServer.start({ workMs: cfg.workMs, seed, taskRetentionMs: SOAK.retentionMs });
  const proxy = await TcpProxy.forUrl(sim.url);
  const capture = new LogCapture([SECRET_KEY]);
  const clock = new TrackingClock();
  const daemonCfg = daemonConfigFor(e, {
    socketPath: join(dir, "run", "daemon.sock"),
    upstreamUrl: proxy.rewrite(sim.url),
    resultRetentionMs: SOAK.retentionMs,
  });
  const daemon = await Daemon.start(daemonCfg, { logger: capture.logger(), engine: { ...e, clock, random: () => rngs.engine.next() } });
  const engine = daemon.engine;
  const ledger = new Ledger();
  const timeline: Timeline = { states: [], readies: [] };
  engine.on("settled", (o) => ledger.engineSettled(o));
  engine.connection.on("ready", (info) => {
    timeline.readies.push({ t: performance.now(), resumed: info.resumed, sessionUUID: info.sessionUUID });
    if (timeline.readies.length > 100) timeline.readies.shift();
  });

  const problems = new Map<string, { count: number; example: string }>();
  const problem = (name: string, detail: string) => {
    const p = problems.get(name) ?? { count: 0, example: detail };
    p.count++;
    problems.set(name, p);
  };
  const injectedCodes = new Set<string>();
  /** UUIDs of tasks handed to a client, until the simulator's counters have been checked after they ended. */
  const issued = new Set<string>();
  const retired: string[] = [];
  let checkedTasks = 0;
  let stopping = false;
  const t0 = performance.now();
  const env: WorkloadEnv = {
    socketPath: daemon.socketPath,
    engine,
    ledger,
    cfg,
    secrets: [SECRET_KEY],
    clientKey: SECRET_KEY,
    stopped: () => stopping,
  };

  // --- load: every client runs chunk after chunk, each checked then forgotten ------------------------
  const runners = { direct: runDirect, http: runHttp, ndjson: runNdjson, ws: runWs } as const;
  const clients = (Object.keys(SOAK.clients) as Array<keyof typeof SOAK.clients>).flatMap((kind) =>
    Array.from({ length: SOAK.clients[kind] }, async (_, i) => {
      const name = `${kind}:${i}`;
      const rng = rngs.work.fork(name);
      for (let chunk = 0; !env.stopped(); chunk++) {
        const specs = makeSpecs(rng, SOAK.chunk, `${name}/${chunk}`, cfg);
        for (const s of specs) issued.add(s.uuid);
        try {
          await runners[kind](env, name, specs, rng);
        } catch (err) {
          problem("clients keep working", `${name}: ${(err as Error).message}`);
        }
        const mine = [...ledger.tasks.values()].filter((t) => t.client === name);
        const retries = capture.retriesByTask();
        for (const t of mine) {
          for (const [inv, detail] of outcomeProblems(
            t,
            ledger.engine.get(t.uuid),
            injectedCodes,
            e.maxTaskRetries,
            retries.get(t.uuid)?.length ?? 0,
          ))
            problem(inv, detail);
        }
        checkedTasks += mine.length;
        ledger.prune(mine.map((t) => t.uuid));
        retired.push(...specs.map((s) => s.uuid));
        await sleep(SOAK.thinkMs);
      }
    }),
  );

  // --- faults: one every few seconds ------------------------------------------------------------------
  const faultCounts: Partial<Record<FaultKind, number>> = {};
  const faults = (async () => {
    while (!env.stopped()) {
      await sleep(rngs.faults.between(SOAK.faultGapMs[0], SOAK.faultGapMs[1]));
      if (env.stopped()) break;
      const kind = rngs.faults.weighted(SOAK.faultWeights);
      const params = paramsFor(kind, rngs.faults, cfg);
      if (kind === "transient" || kind === "permanent") injectedCodes.add(String(params["code"]));
      faultCounts[kind] = (faultCounts[kind] ?? 0) + 1;
      await applyFault({ kind, atSettled: 0, params }, { sim, proxy }, cfg, timeline);
    }
  })();

  // --- samples ------------------------------------------------------------------------------------
  const samples: Sample[] = [];
  let lastSettled = 0;
  let lastT = t0;
  const takeSample = () => {
    // Upstream checks on the window since the last sample, then the counters start over (they would grow).
    const c = sim.counters;
    for (const u of Object.keys(c.received)) if (!issued.has(u)) problem("no taskUUID upstream that no client submitted", u);
    // Acknowledged async tasks are polled, not in flight: at most maxAsync more (docs/local-api.md §2.8).
    if (c.maxOutstanding > e.maxInFlight + e.maxAsync) problem("never more than maxInFlight + maxAsync outstanding", `${c.maxOutstanding}`);
    sim.resetCounters();
    for (const u of retired.splice(0)) issued.delete(u);
    const r = sample(true);
    const stats = engine.stats();
    const now = performance.now();
    const s: Sample = {
      ...r,
      elapsedMs: now - t0,
      settled: ledger.settled,
      ratePerSec: ((ledger.settled - lastSettled) * 1000) / (now - lastT),
      pending: engine.pendingCount,
      queued: stats.tasks.queued,
      inFlight: stats.tasks.inFlight,
      stored: daemon.service.store.size,
      simOutstanding: c.outstanding,
      state: stats.upstream.state,
      timers: r.handles["Timeout"] ?? 0,
      otherHandles: r.handleCount - (r.handles["Timeout"] ?? 0),
    };
    lastSettled = ledger.settled;
    lastT = now;
    samples.push(s);
    console.log(
      `  t=${(s.elapsedMs / 1000).toFixed(0).padStart(4)}s  rss ${(s.rss / MiB).toFixed(1)} MiB  heap ${(s.heapUsed / MiB).toFixed(1)} MiB  handles ${s.otherHandles} + ${s.timers} timers  ` +
        `settled ${s.settled} (${s.ratePerSec.toFixed(0)}/s)  pending ${s.pending}  stored ${s.stored}  ${s.state}`,
    );
  };
  const sampler = setInterval(takeSample, SOAK.sampleEveryMs);
  await sleep(durationMs);
  clearInterval(sampler);

  // --- wind down and judge -------------------------------------------------------------------------
  stopping = true;
  await faults;
  liftAll({ sim, proxy });
  const drained = await within(Promise.all(clients), e.taskTimeoutMs + 10_000);
  if (!drained)
    problem("no task hangs", `clients still waiting ${e.taskTimeoutMs + 10_000} ms after the load stopped; ${engine.pendingCount} pending`);
  takeSample();
  if (engine.pendingCount !== 0) problem("no task left pending", `${engine.pendingCount}`);
  for (const a of ledger.anomalies) problem("clients get well-formed, routed answers", a);
  if (ledger.secretHits > 0) problem("the API key never appears", `${ledger.secretHits} answers`);
  if (capture.leakCount > 0) problem("the API key never appears", capture.leaks[0] ?? "");
  await daemon.stop("soak over");
  if (clock.pending !== 0) problem("no live timer afterwards", `${clock.pending} engine timers`);
  await proxy.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });

  // Judged: samples under load after the warm-up (not the one taken after the load stopped).
  const judged = samples.filter((s) => s.elapsedMs >= warmupMs && s.elapsedMs <= durationMs + SOAK.sampleEveryMs / 2);
  const heap = trend(judged.map((s) => ({ t: s.elapsedMs, y: s.heapUsed / MiB })));
  const rss = trend(judged.map((s) => ({ t: s.elapsedMs, y: s.rss / MiB })));
  const handles = trend(judged.map((s) => ({ t: s.elapsedMs, y: s.otherHandles })));
  const timers = trend(judged.map((s) => ({ t: s.elapsedMs, y: s.timers })));
  const meanTimers = judged.reduce((a, s) => a + s.timers, 0) / Math.max(1, judged.length);
  if (judged.length < 3) problem("enough samples after warm-up", `${judged.length} samples; run longer`);
  if (heap.slopePerMin > SOAK.maxHeapMiBPerMin)
    problem("heap flat after warm-up", `${heap.slopePerMin.toFixed(2)} MiB/min (limit ${SOAK.maxHeapMiBPerMin}), r² ${heap.r2.toFixed(2)}`);
  if (handles.slopePerMin > SOAK.maxHandlesPerMin)
    problem("handles flat after warm-up", `${handles.slopePerMin.toFixed(2)}/min (limit ${SOAK.maxHandlesPerMin})`);
  if (timers.slopePerMin > SOAK.maxTimersSharePerMin * meanTimers) {
    problem(
      "timers flat after warm-up",
      `${timers.slopePerMin.toFixed(1)}/min around ${meanTimers.toFixed(0)} (limit ${(SOAK.maxTimersSharePerMin * 100).toFixed(0)}%/min)`,
    );
  }

  const wallMin = (performance.now() - t0) / 60_000;
  const verdict = {
    seed,
    minutes,
    warmupMs,
    tasks: checkedTasks,
    tasksPerSec: checkedTasks / (wallMin * 60),
    faults: faultCounts,
    reconnects: engine.stats().upstream.reconnects,
    logLines: capture.lines,
    heapMiBPerMin: heap.slopePerMin,
    rssMiBPerMin: rss.slopePerMin,
    handlesPerMin: handles.slopePerMin,
    timersPerMin: timers.slopePerMin,
    heapRange:
      judged.length > 0 ? [Math.min(...judged.map((s) => s.heapUsed)) / MiB, Math.max(...judged.map((s) => s.heapUsed)) / MiB] : [],
    problems: Object.fromEntries(problems),
  };
  console.log(
    `soak: ${checkedTasks} tasks checked (${verdict.tasksPerSec.toFixed(0)}/s), ${Object.values(faultCounts).reduce((a, b) => a + b, 0)} faults ${JSON.stringify(faultCounts)}, ${verdict.reconnects} reconnects`,
  );
  console.log(
    `  after warm-up: heap ${heap.slopePerMin.toFixed(3)} MiB/min (r² ${heap.r2.toFixed(2)}), rss ${rss.slopePerMin.toFixed(3)} MiB/min (reported only: the allocator keeps what it got), handles ${handles.slopePerMin.toFixed(2)}/min, timers ${timers.slopePerMin.toFixed(1)}/min (of ~${meanTimers.toFixed(0)}); ` +
      `heap between ${verdict.heapRange.map((x) => x.toFixed(1)).join(" and ")} MiB`,
  );
  console.log(`  ${capture.lines} log lines at trace, API key in ${capture.leakCount}`);
  if (problems.size === 0) console.log("soak: PASS");
  else {
    console.log("soak: FAIL");
    for (const [name, p] of problems) console.log(`  ✗ ${name} (${p.count}×): ${p.example}`);
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ verdict, samples }, null, 2));
  return problems.size === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
