/**
 * The engine's settings, events and submit options. Values come from the daemon's settings table
 * (src/local/settings.ts), which gives each one its reason; tests shrink them.
 */
import type { Logger } from "../log.js";
import type { RandomSource } from "./backoff.js";
import type { ConnectionOptions } from "./connection.js";
import type { Phase } from "./lifecycle.js";
import type { ConnState } from "./state.js";
import type { TaskOutcome } from "./task.js";
import type { Clock } from "../util/clock.js";

export interface EngineOptions extends Omit<ConnectionOptions, "random" | "logger" | "clock"> {
  maxInFlight: number;
  maxQueued: number;
  /** Bytes of encoded tasks waiting for a slot (the queue's byte budget). */
  maxQueuedBytes: number;
  /** The largest frame written upstream; queued tasks are packed into frames up to it. */
  maxFrameBytes: number;
  taskTimeoutMs: number;
  /** Async tasks being polled (from leaving the queue to their end); more wait in the queue. */
  maxAsync: number;
  /** An async task ends in doubt this long after Runware acknowledged it (instead of taskTimeoutMs). */
  asyncTimeoutMs: number;
  maxTaskRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pollInitialMs: number;
  pollFactor: number;
  pollMaxMs: number;
  recoveryGraceMs: number;
  maxRecoveryResends: number;
  sendHighWaterBytes: number;
  random?: RandomSource;
  clock?: Clock;
  logger?: Logger;
}

export interface SubmitOptions {
  /** Who submitted: the queue is fair between clients. */
  client?: string;
}

export interface EngineEvents {
  /** A task ended; its outcome is final. */
  settled: [outcome: TaskOutcome];
  state: [to: ConnState, from: ConnState, reason: string];
  /** A task changed phase (lifecycle.ts): for metrics, the event stream and tests. */
  move: [taskUUID: string, from: Phase, to: Phase, reason: string];
}
