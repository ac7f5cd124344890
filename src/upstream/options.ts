/**
 * The engine's settings, events and submit options. Values come from the daemon's settings table
 * (src/local/settings.ts), which gives each one its reason; tests shrink them.
 */
import type { Logger } from "../log.js";
import type { RandomSource } from "./backoff.js";
import type { ConnectionOptions } from "./connection.js";
import type { Phase } from "./lifecycle.js";
import type { ConnState } from "./state.js";
import type { TaskHandle, TaskOutcome } from "./task.js";

/** A task as the engine accepted it: what a restarted daemon needs to take it up again. */
export interface AcceptedTask {
  readonly taskUUID: string;
  readonly taskType: string;
  /** The task as sent upstream (JSON, never a key: the key travels only in the auth frame). */
  readonly text: string;
  readonly client: string;
  /** Who asked, as the caller named itself (local/label.ts). */
  readonly label: string;
  /** The caller did not ask for `includeCost` (protocol/cost.ts). */
  readonly costHidden: boolean;
  /** A caller's own getResponse: an answer, not work (never journaled). */
  readonly passthrough: boolean;
}
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
  /** Called before each upstream write of tasks (the journal's commit point: a task is on disk before it is sent). */
  beforeSend?: () => void;
  random?: RandomSource;
  clock?: Clock;
  logger?: Logger;
}

export interface SubmitOptions {
  /** Who submitted: the queue is fair between clients. */
  client?: string;
  /** Who asked, as the caller named itself (local/label.ts); default UNLABELLED. */
  label?: string;
}

/** The label of a task whose caller gave none (issue 16). */
export const UNLABELLED = "unlabelled";

export interface EngineEvents {
  /** A task ended; its outcome is final. */
  settled: [outcome: TaskOutcome];
  state: [to: ConnState, from: ConnState, reason: string];
  /** A task changed phase (lifecycle.ts): for metrics, the event stream, the journal and tests. */
  move: [taskUUID: string, from: Phase, to: Phase, reason: string];
  /** A task was accepted (submitted or adopted from the journal): what the journal records, and its handle. */
  accepted: [task: AcceptedTask, handle: TaskHandle];
  /** Runware gave the link a session (docs/protocol.md §2.1): the journal keeps it for a restart. */
  session: [sessionUUID: string];
}
