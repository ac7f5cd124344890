/**
 * The reliability tests' rig: a simulator, the TCP proxy of scripts/chaos/proxy.ts in front of it
 * (so a test can freeze or cut the link at the TCP level), and an in-process Daemon whose engine runs
 * on a TrackingClock and whose logs are captured at `trace` with the distinctive key, for the leak
 * and secret checks. Everything is registered with the Cleanup.
 */
import { join } from "node:path";
import { LogCapture } from "../../scripts/chaos/capture.js";
import { SECRET_KEY } from "../../scripts/chaos/config.js";
import { TcpProxy } from "../../scripts/chaos/proxy.js";
import { Daemon } from "../../src/local/daemon.js";
import { SimServer, type SimOptions } from "../../src/sim/index.js";
import type { EngineOptions } from "../../src/upstream/engine.js";
import { TrackingClock } from "../../src/util/clock.js";
import type { Cleanup } from "../helpers/cleanup.js";
import { daemonConfig, FAST_ENGINE, tempDir } from "../helpers/daemon.js";
import { waitFor } from "../helpers/wait.js";

export interface ReliabilityRig {
  sim: SimServer;
  proxy: TcpProxy;
  daemon: Daemon;
  capture: LogCapture;
  clock: TrackingClock;
  dir: string;
  socketPath: string;
  /** Engine state changes with their time (performance.now()). */
  states: Array<{ t: number; to: string; reason: string }>;
}

export interface RigOptions {
  sim?: Partial<SimOptions>;
  /** CLI flags on top of the tests' fast ones (e.g. ping/pong timings). */
  flags?: Record<string, string>;
  engine?: Partial<EngineOptions>;
  maxBodyBytes?: number;
}

export async function startReliabilityRig(cleanup: Cleanup, opts: RigOptions = {}): Promise<ReliabilityRig> {
  const dir = tempDir(cleanup, "rwd-rel-");
  const sim = cleanup.add(await SimServer.start({ workMs: 5, ...opts.sim }), (s) => s.close());
  const proxy = cleanup.add(await TcpProxy.forUrl(sim.url), (p) => p.close());
  const capture = new LogCapture([SECRET_KEY]);
  const clock = new TrackingClock();
  const socketPath = join(dir, "run", "daemon.sock");
  const cfg = daemonConfig(proxy.rewrite(sim.url), socketPath, { "log-level": "trace", ...opts.flags }, SECRET_KEY);
  if (opts.maxBodyBytes) cfg.maxBodyBytes = opts.maxBodyBytes;
  const daemon = cleanup.add(
    await Daemon.start(cfg, {
      logger: capture.logger(),
      engine: { ...FAST_ENGINE, ...opts.engine, clock },
    }),
    (d) => d.stop("test over"),
  );
  const states: ReliabilityRig["states"] = [];
  daemon.engine.on("state", (to, _from, reason) => states.push({ t: performance.now(), to, reason }));
  await waitFor(() => daemon.engine.stats().upstream.state === "ready", "the daemon's upstream link to be ready");
  return { sim, proxy, daemon, capture, clock, dir, socketPath, states };
}
