/**
 * Every knob of a chaos run in one documented object, and the two presets: the full run
 * (`node dist/scripts/chaos.js`, thousands of tasks) and the quick one inside `npm test`.
 * Engine timings are the tests' FAST ones (milliseconds instead of seconds) so that faults and
 * recoveries happen many times a minute.
 */
import { dirname, join } from "node:path";
import { defaultSettings, type DaemonConfig } from "../../src/local/config.js";
import type { EngineOptions } from "../../src/upstream/engine.js";

/** The API key of every chaos/fuzz/soak daemon: distinctive, so a leak is found by plain search. */
export const SECRET_KEY = "sk-test-NEVER-LOG-91c2";

export type FaultKind =
  | "cut" // sim terminates every connection (1006); the session survives: resumed
  | "cutForget" // sim forgets every session, then cuts: fresh session, resends under the same UUID
  | "simFreeze" // sim stops reading and writing (pongs too) but keeps sockets open
  | "proxyFreeze" // the TCP proxy stops forwarding both ways: a half-open link
  | "proxyReplace" // proxy frozen until the heartbeat gives up, then its connections are destroyed
  | "proxyCut" // the proxy destroys both sides of every connection
  | "slowAuth" // authentication answered late (sometimes later than authTimeoutMs), then a cut
  | "failAuths" // the next 1-3 authentications dropped or answered internalServerError, then a cut
  | "transient" // the next 1-4 tasks fail with timeoutProvider / providerRateLimitExceeded
  | "permanent" // the next 1-3 tasks fail with invalidModel / insufficientCredits / ...
  | "garbage" // a frame that is not Runware-shaped JSON
  | "latency"; // one-way latency on every frame for a while

interface ClientMix {
  /** `engine.submit` callers with their own client id. */
  direct: number;
  /** `POST /v1` JSON callers. */
  http: number;
  /** `POST /v1` NDJSON stream readers. */
  ndjson: number;
  /** Local WebSocket clients (Runware's protocol over the Unix socket). */
  ws: number;
}

export interface ChaosConfig {
  seed: number;
  /** Tasks in total, spread over the clients. */
  tasks: number;
  /** Faults injected, spread over the run by progress (settled tasks), at seeded moments. */
  faults: number;
  clients: ClientMix;
  /** Tasks per request / burst: 1..maxBatch. */
  maxBatch: number;
  /** Tasks a WebSocket client keeps outstanding. */
  wsWindow: number;
  /** numberResults of each task: 1..maxNumberResults. */
  maxNumberResults: number;
  /** Share of tasks with deliveryMethod "async". */
  asyncShare: number;
  /** Share of tasks asking for base64Data (the simulator renders a real PNG for those). */
  base64Share: number;
  /** Share of single-task HTTP requests sent without a taskUUID (the daemon assigns it). */
  daemonAssignedShare: number;
  /** A WebSocket client polls getResponse for its async tasks this often. */
  wsPollMs: number;
  /** Simulator: time a task takes. */
  workMs: number;
  /** Engine options for the daemon (timings shrunk to milliseconds). */
  engine: Omit<EngineOptions, "url" | "apiKey" | "clock" | "random" | "logger">;
  /** Relative weights of the fault kinds. */
  faultWeights: Readonly<Record<FaultKind, number>>;
  /** Freezes last this long (some shorter than the heartbeat bound: those must pass unnoticed). */
  freezeMs: readonly [number, number];
  /** Slow-auth delay range (partly above authTimeoutMs) and how long it stays on. */
  slowAuthMs: readonly [number, number];
  slowAuthHoldMs: readonly [number, number];
  /** Latency range and how long it stays on. */
  latencyMs: readonly [number, number];
  latencyHoldMs: readonly [number, number];
  /** Scheduling slack allowed on top of ping + maxMissed × pong for a freeze to be detected. */
  detectionSlackMs: number;
  /** The whole workload must be done by then, or the run reports the tasks that hung. */
  deadlineMs: number;
  /** After the last fault, this long for its effects to arrive (a cut is seen a few ms later) before the link is judged. */
  settleMs: number;
  /** At least this long between one fault's end and the next, so each drop is put down to the right fault. */
  faultGapMs: number;
  /** Heap after the run (after GC) may exceed the baseline by this much. */
  heapMarginBytes: number;
}

export const TRANSIENT_CODES = ["timeoutProvider", "providerRateLimitExceeded"] as const;
export const PERMANENT_CODES = ["invalidModel", "insufficientCredits", "contentPolicyViolation"] as const;
/** What the simulator's `sendGarbage` sends in a garbage fault: none of it is a Runware frame for our tasks. */
export const GARBAGE_TEXTS = [
  "<html><body>502 Bad Gateway</body></html>",
  "{not json",
  "null",
  "[]",
  '{"data":"not-a-list"}',
  '{"errors":[{"code":"internalServerError","message":"orphan error without a taskUUID"}]}',
  '{"data":[{"taskType":"imageInference","taskUUID":"00000000-0000-4000-8000-000000000000","imageUUID":"x"}]}',
  "\u0000\u0001\u0002",
] as const;

const ENGINE: ChaosConfig["engine"] = {
  ...defaultSettings(),
  handshakeTimeoutMs: 2_000,
  authTimeoutMs: 300,
  backoffBaseMs: 10,
  backoffMaxMs: 50,
  backoffFloorMs: 1,
  minUptimeMs: 1_000,
  pingIntervalMs: 100,
  pongTimeoutMs: 50,
  maxMissedPongs: 2,
  maxInFlight: 8,
  taskTimeoutMs: 20_000,
  maxTaskRetries: 3,
  retryBaseMs: 5,
  retryMaxMs: 20,
  pollInitialMs: 10,
  pollFactor: 1.5,
  pollMaxMs: 50,
  recoveryGraceMs: 30,
};

const WEIGHTS: Record<FaultKind, number> = {
  cut: 3,
  cutForget: 3,
  simFreeze: 2,
  proxyFreeze: 2,
  proxyReplace: 1,
  proxyCut: 2,
  slowAuth: 1,
  failAuths: 1,
  transient: 3,
  permanent: 2,
  garbage: 2,
  latency: 1,
};

/** `node dist/scripts/chaos.js`: ≥ 5,000 tasks and ≥ 50 faults. */
export const FULL: Omit<ChaosConfig, "seed"> = {
  tasks: 6_000,
  faults: 72,
  clients: { direct: 2, http: 3, ndjson: 2, ws: 2 },
  maxBatch: 6,
  wsWindow: 6,
  maxNumberResults: 4,
  asyncShare: 0.2,
  base64Share: 0.03,
  daemonAssignedShare: 0.1,
  wsPollMs: 15,
  workMs: 15,
  engine: { ...ENGINE, maxInFlight: 16 },
  faultWeights: WEIGHTS,
  freezeMs: [60, 700],
  slowAuthMs: [100, 450],
  slowAuthHoldMs: [200, 800],
  latencyMs: [2, 15],
  latencyHoldMs: [200, 800],
  detectionSlackMs: 1_000,
  deadlineMs: 600_000,
  settleMs: 100,
  faultGapMs: 25,
  heapMarginBytes: 8 * 1024 * 1024,
};

/** test/reliability/chaos.test.ts: a few hundred tasks and ~15 faults in a few seconds. */
export const QUICK: Omit<ChaosConfig, "seed"> = {
  ...FULL,
  tasks: 360,
  faults: 15,
  clients: { direct: 1, http: 2, ndjson: 1, ws: 1 },
  workMs: 8,
  engine: { ...ENGINE, taskTimeoutMs: 8_000 },
  freezeMs: [60, 450],
  slowAuthHoldMs: [150, 400],
  latencyHoldMs: [100, 300],
  deadlineMs: 15_000,
  heapMarginBytes: 8 * 1024 * 1024,
};

/** The heartbeat's worst case: a link silent since `t` is dropped by `t + bound` (docs/local-api.md §3.7). */
export function detectionBoundMs(e: Pick<EngineOptions, "pingIntervalMs" | "pongTimeoutMs" | "maxMissedPongs">): number {
  return e.pingIntervalMs + e.maxMissedPongs * e.pongTimeoutMs;
}

/** The daemon's config for a chaos or soak run: the engine's timings, trace logging, a short drain. */
export function daemonConfigFor(
  e: ChaosConfig["engine"],
  where: { socketPath: string; upstreamUrl: string; resultRetentionMs: number },
): DaemonConfig {
  return {
    ...defaultSettings(),
    upstreamUrl: where.upstreamUrl,
    socketPath: where.socketPath,
    // The journal beside the socket, in the run's own temp directory (chaos also runs with it on).
    stateDir: join(dirname(where.socketPath), "state"),
    maxInFlight: e.maxInFlight,
    maxQueued: e.maxQueued,
    taskTimeoutMs: e.taskTimeoutMs,
    pingIntervalMs: e.pingIntervalMs,
    pongTimeoutMs: e.pongTimeoutMs,
    backoffBaseMs: e.backoffBaseMs,
    backoffMaxMs: e.backoffMaxMs,
    resultRetentionMs: where.resultRetentionMs,
    drainTimeoutMs: 2_000,
    logLevel: "trace",
    apiKey: SECRET_KEY,
  };
}
