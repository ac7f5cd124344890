/**
 * Every timeout and limit of the daemon, in one place. Each value says why it is what it is.
 * Durations are milliseconds. The CLI flags of the contract (`--max-in-flight`, `--task-timeout-ms`,
 * ...) override these; tests shrink them.
 */
export const DEFAULTS = {
  /** Runware's WebSocket endpoint (runware-protocol.md §1). */
  upstreamUrl: "wss://ws-api.runware.ai/v1",

  // --- connection -------------------------------------------------------------------------------
  /** Give up on a TCP+TLS+upgrade that has not completed by then and back off. */
  handshakeTimeoutMs: 10_000,
  /** Wait this long for the `authentication` reply (rw-ts uses 15 s; sdk-js has none and hangs 60 s). */
  authTimeoutMs: 15_000,

  // --- backoff between reconnects (anchors-design.md §2.3: full jitter, cap, floor, minUptime) --
  /** First ceiling of the jittered delay; doubles per failed attempt. */
  backoffBaseMs: 500,
  /** Never wait longer than this between attempts (rw-ts caps at 30 s). */
  backoffMaxMs: 30_000,
  /** Never reconnect sooner than this, so a flapping server is not hammered. */
  backoffFloorMs: 100,
  /** Growth factor of the ceiling per attempt. */
  backoffFactor: 2,
  /** The attempt counter resets only after a connection stayed ready this long. */
  minUptimeMs: 5_000,

  // --- heartbeat (anchors-design.md §2.5). Runware closes idle sockets after 120 s. ---------------
  /** Ping when nothing was received for this long. */
  pingIntervalMs: 20_000,
  /** A ping unanswered this long is a miss; the next ping goes out at once. */
  pongTimeoutMs: 10_000,
  /** Misses before the socket is terminated: a half-open link is found within 20 + 2 × 10 = 40 s. */
  maxMissedPongs: 2,

  // --- tasks ------------------------------------------------------------------------------------
  /** Tasks outstanding upstream at once: Runware's recommendation without a capacity agreement. */
  maxInFlight: 4,
  /** Tasks waiting for a slot; beyond this a submit is refused (429), never dropped. */
  maxQueued: 20_000,
  /** Every task ends by then: results, errors, or a timeout error (contract §3.2). */
  taskTimeoutMs: 300_000,
  /** Retries of a transient error (timeoutProvider, provider*, ...), under the same taskUUID. */
  maxTaskRetries: 3,
  /** First ceiling of the jittered delay before a transient retry; doubles per retry. */
  retryBaseMs: 1_000,
  /** Cap of the retry delay. */
  retryMaxMs: 10_000,
  /** Async polling (rw-ts cadence, runware-protocol.md §4): first getResponse after this... */
  pollInitialMs: 1_000,
  /** ...then each delay times this factor... */
  pollFactor: 1.5,
  /** ...never longer than this. */
  pollMaxMs: 10_000,
  /**
   * Same-UUID resubmissions of a task that getResponse says Runware never saw (our send was lost),
   * before it ends in doubt. Safe: a task Runware does not know cannot run twice.
   */
  maxRecoveryResends: 2,
  /** After a resumed re-auth, Runware replays its buffer at once; what is still missing after this is polled. */
  recoveryGraceMs: 2_000,
  /** Stop writing to the socket while this many bytes are queued in it. */
  sendHighWaterBytes: 4 * 1024 * 1024,

  // --- local API ----------------------------------------------------------------------------------
  /** Finished tasks stay readable (`GET /v1/tasks/{uuid}`) this long, so a caller that went away can come back. */
  resultRetentionMs: 600_000,
  /** ...and at most this many of them (oldest dropped first), so memory stays bounded. */
  resultRetentionMax: 10_000,
  /** Largest request body. Runware tasks may carry base64 images (seedImage, ...), hence generous. */
  maxBodyBytes: 32 * 1024 * 1024,
  /**
   * After refusing a body (413), keep reading and discarding the rest of it this long: closing a
   * socket with unread input makes the kernel reset it, and the client gets ECONNRESET instead of
   * the 413 (the "lingering close" of nginx and Apache).
   */
  refusedBodyDrainMs: 2_000,
  /** On SIGTERM, in-flight tasks get this long to finish before they are answered as in doubt. */
  drainTimeoutMs: 30_000,
  /** Log level of the daemon (pino levels). */
  logLevel: "info",
} as const;

export type Defaults = typeof DEFAULTS;
