/**
 * An UpstreamEngine wired to a simulator with millisecond timings, plus the leak check every engine
 * test ends with: no pending task, no live timer.
 */
import { expect } from "vitest";
import { defaultSettings } from "../../src/local/config.js";
import { silentLogger } from "../../src/log.js";
import { Connection } from "../../src/upstream/connection.js";
import { UpstreamEngine, type EngineOptions } from "../../src/upstream/engine.js";
import { TrackingClock } from "../../src/util/clock.js";

export const FAST: Omit<EngineOptions, "url" | "apiKey"> = {
  ...defaultSettings(),
  handshakeTimeoutMs: 2_000,
  authTimeoutMs: 300,
  backoffBaseMs: 10,
  backoffMaxMs: 50,
  backoffFloorMs: 1,
  minUptimeMs: 1_000,
  pingIntervalMs: 1_000,
  pongTimeoutMs: 200,
  maxMissedPongs: 2,
  taskTimeoutMs: 10_000,
  retryBaseMs: 5,
  retryMaxMs: 20,
  pollInitialMs: 10,
  pollFactor: 1.5,
  pollMaxMs: 50,
  recoveryGraceMs: 30,
};

export interface TestEngine {
  engine: UpstreamEngine;
  /** The engine's link, a real Connection, for what only it knows (garbage frames, ...). */
  connection: Connection;
  clock: TrackingClock;
  /** Close the engine and assert nothing was left behind. */
  closeAndCheck(): Promise<void>;
}

export function startEngine(url: string, overrides: Partial<EngineOptions> = {}): TestEngine {
  const clock = new TrackingClock();
  const opts: EngineOptions = { ...FAST, url, apiKey: "test-key", clock, ...overrides };
  const connection = new Connection({ ...opts, random: opts.random ?? Math.random, clock, logger: opts.logger ?? silentLogger });
  const engine = new UpstreamEngine(opts, connection);
  engine.start();
  return {
    engine,
    connection,
    clock,
    async closeAndCheck() {
      expect(engine.pendingCount, "tasks left pending").toBe(0);
      await engine.close("test over");
      expect(clock.pending, "timers left running").toBe(0);
      expect(engine.stats().tasks.inFlight).toBe(0);
      expect(engine.stats().tasks.queued).toBe(0);
    },
  };
}

/** Wait until `cond()` holds, checking on every event-loop turn; fails after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export function imageTask(extra: Record<string, unknown> = {}): Record<string, unknown> & { taskType: string } {
  return {
    taskType: "imageInference",
    model: "runware:101@1",
    positivePrompt: "a lighthouse at dusk",
    width: 512,
    height: 512,
    ...extra,
  };
}
