/**
 * The pressure phase (issue 11): one daemon at its default budgets, in its own process, loaded in
 * three stages while its RSS is sampled and `GET /v1/status` is polled every 100 ms:
 *   1. results: gigabytes of base64 results pass through `POST /v1`;
 *   2. queued: gigabytes of 30 MB inputs are submitted while the simulator is down, then it comes back;
 *   3. non-readers: WebSocket and NDJSON clients ask for results and stop reading.
 * Every caller is counted by how it ended (pressure-io.ts `Outcome`). Its own simulator and daemon
 * are stopped before it returns.
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BENCH, type PressureScale } from "./config.js";
import { simOptions, STAGES, Tally, type Env } from "./pressure-stages.js";
import { PressureWatch, type StageWatch } from "./pressure-watch.js";
import { freePort, peakRssBytes, rssBytes, sleep, startDaemon, startSimWith, tempDir } from "./procs.js";

const P = BENCH.pressure;
const PROBE = join(dirname(fileURLToPath(import.meta.url)), "mem-probe.js");

export interface PressureStage {
  name: string;
  /** Bytes the stage moved: result bytes read by its callers, bytes uploaded, or bytes due to non-readers. */
  bytes: number;
  wallMs: number;
  callers: number;
  /** How the callers ended, by label (`200 done`, `429 queueFull`, `ws close 1008 clientTooSlow`, ...). */
  outcomes: Record<string, number>;
  unanswered: number;
  /** Stage figures beyond the callers (tasks queued at the peak, tasks readable afterwards, ...). */
  notes: Record<string, number>;
  watch: StageWatch;
}

export interface PressureResult {
  /** The daemon's limits as its /v1/status reports them (its defaults). */
  limits: Record<string, number>;
  idleRssBytes: number;
  /** VmHWM at the end: the daemon's largest RSS over the whole phase. */
  peakRssBytes: number;
  slowestStatusMs: number;
  statusPolls: number;
  statusFailures: number;
  callers: number;
  unanswered: number;
  stages: PressureStage[];
  /** The bench process's own peak RSS, to show it streamed rather than held. */
  benchPeakRssBytes: number;
}

export async function pressure(scale: PressureScale, log: (msg: string) => void): Promise<PressureResult> {
  const port = await freePort();
  const sim = await startSimWith("sim(pressure)", simOptions(port));
  const probeFile = join(tempDir(), "probe.jsonl");
  const daemon = await startDaemon(
    "daemon(pressure)",
    sim.url,
    ["--backoff-max-ms", String(P.backoffMaxMs)],
    ["--expose-gc", "--import", pathToFileURL(PROBE).href],
    { RW_BENCH_PROBE: probeFile },
  );
  const watch = new PressureWatch(daemon.child.pid, daemon.socket, probeFile, P);
  const env: Env = { scale, daemon, sim, port, watch, log };
  const stages: Array<Omit<PressureStage, "watch">> = [];
  try {
    await sleep(300);
    const idleRssBytes = rssBytes(daemon.child.pid);
    const limits = (await daemon.status()).limits;
    for (const [name, run] of STAGES) {
      const tally = new Tally();
      const notes: Record<string, number> = {};
      watch.stage(name);
      const t0 = performance.now();
      const bytes = await run(env, tally, notes);
      const wallMs = performance.now() - t0;
      stages.push({ name, bytes, wallMs, callers: tally.callers, outcomes: tally.outcomes, unanswered: tally.unanswered, notes });
      log(
        `pressure ${name}: ${(bytes / 1e9).toFixed(2)} GB in ${(wallMs / 1000).toFixed(1)} s, ${tally.callers} callers (${tally.unanswered} unanswered), VmHWM ${(peakRssBytes(daemon.child.pid) / 2 ** 20).toFixed(0)} MiB; ${JSON.stringify(tally.outcomes)}`,
      );
    }
    const peak = peakRssBytes(daemon.child.pid);
    const watched = await watch.stop();
    const full: PressureStage[] = stages.map((s) => ({ ...s, watch: watched.get(s.name) as StageWatch }));
    const ws = full.map((s) => s.watch);
    return {
      limits,
      idleRssBytes,
      peakRssBytes: peak,
      slowestStatusMs: Math.max(...ws.map((w) => w.slowestStatusMs)),
      statusPolls: ws.reduce((n, w) => n + w.statusPolls, 0),
      statusFailures: ws.reduce((n, w) => n + w.statusFailures, 0),
      callers: full.reduce((n, s) => n + s.callers, 0),
      unanswered: full.reduce((n, s) => n + s.unanswered, 0),
      stages: full,
      benchPeakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await watch.stop();
    await daemon.child.kill();
    await env.sim.child.kill();
  }
}
