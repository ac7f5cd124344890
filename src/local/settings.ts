/**
 * Every setting of the daemon, declared once: flag, environment variable, default, schema, one-line
 * help, and why the default is what it is. The flag parser, `runware daemon --help`, validation, the
 * limits in `GET /v1/status`, what `runware start` passes through and the README's daemon table are
 * all derived from this table by `config.ts`, the only module that reads it.
 *
 * Adding a setting is one entry here. An entry without `flag` is internal (tests and scripts shrink
 * it through the config); giving it a `flag` makes it a documented flag everywhere at once.
 * Durations are milliseconds.
 */
import { z } from "zod";
import { defaultSocketPath, defaultStateDir, defaultTokenPath } from "../paths.js";
import { DEFAULT_MAX_JSON_DEPTH } from "../protocol/json-limits.js";
import { parseDuration } from "../util/duration.js";
import { parseListen } from "./listen.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Help and the README list flags group by group, in this order, then in table order. */
export const GROUPS = ["endpoints", "tasks", "link", "local", "process"] as const;
export type SettingGroup = (typeof GROUPS)[number];

export interface Setting<S extends z.ZodType = z.ZodType> {
  /** The `--flag` (without dashes); none: an internal setting. */
  flag?: string;
  /** What the flag's value looks like in help: `N`, `MS`, `URL`, ... */
  arg?: string;
  /** A switch: the flag takes no value and sets the setting to true (its schema is boolean). */
  switch?: true;
  /** An environment variable read when the flag is absent (an empty one counts as unset). */
  env?: string;
  /** The default, or how to compute it from the environment. */
  default: z.output<S> | ((env: NodeJS.ProcessEnv) => z.output<S>);
  /** A value other than the default (for a setting unset by default): what the settings tests set it to. */
  example?: string;
  /** How a computed default reads in help and README: its alternatives, first match wins. */
  shownDefault?: readonly string[];
  /** Checks (and, for flags, coerces from text) every value: flag, environment or default. */
  schema: S;
  /** One line for `--help` and the README; `{key}` stands for another setting's default. */
  help: string;
  /** Why the default is what it is. */
  why: string;
  group: SettingGroup;
  /** Shown under `limits` in `GET /v1/status` (docs/local-api.md §2.5; numbers only). */
  status?: true;
}

/** Identity, so each entry's default is checked against its own schema's type. */
function setting<const S extends z.ZodType, const E extends Setting<S>>(e: E & { schema: S }): E {
  return e;
}

const count = (min: number) => z.coerce.number().int().min(min);
/** A duration that must be positive. */
const ms = count(1);
/** A duration where 0 means "not at all". */
const msOrZero = count(0);
const factor = z.coerce.number().min(1);
/** How long spend and history are kept: 31 days, one more than the longest window shown. */
const HISTORY_DAYS_MS = 31 * 86_400_000;

export const SETTINGS = {
  // --- endpoints ---------------------------------------------------------------------------------
  upstreamUrl: setting({
    flag: "upstream",
    arg: "URL",
    env: "RUNWARE_URL",
    default: "wss://ws-api.runware.ai/v1",
    schema: z.string().regex(/^wss?:\/\//, "must be a ws:// or wss:// URL"),
    help: "Runware's WebSocket endpoint",
    why: "Runware's WebSocket endpoint (docs/protocol.md §1.1).",
    group: "endpoints",
  }),
  socketPath: setting({
    flag: "socket",
    arg: "PATH",
    env: "RUNWARE_SOCKET",
    default: (env: NodeJS.ProcessEnv) => defaultSocketPath(env),
    shownDefault: ["$XDG_RUNTIME_DIR/runware/daemon.sock", "/tmp/runware-<uid>/daemon.sock"],
    schema: z.string().min(1),
    help: "the local API's Unix socket",
    why: "A directory of the user's own (the XDG runtime dir, else a per-uid one in /tmp), as ssh-agent does; paths.ts.",
    group: "endpoints",
  }),

  stateDir: setting({
    flag: "state-dir",
    arg: "DIR",
    default: (env: NodeJS.ProcessEnv) => defaultStateDir(env),
    shownDefault: ["$XDG_STATE_HOME/runware", "~/.local/state/runware"],
    schema: z.string().min(1),
    help: "where the journal lives (one per socket path; directory 0700, files 0600)",
    why: "The XDG base directory spec's place for state that should survive a restart but is not worth backing up (logs, history); containerd and Docker keep theirs in /var/lib the same way. Per user, so no permission to share.",
    group: "endpoints",
  }),
  listen: setting({
    flag: "listen",
    arg: "HOST:PORT",
    default: undefined,
    example: "127.0.0.1:8787",
    shownDefault: ["none"],
    schema: z.union([z.undefined(), z.string()]).transform((v, ctx) => {
      if (v === undefined) return undefined;
      const a = parseListen(v);
      if (typeof a === "string") {
        ctx.addIssue({ code: "custom", message: a });
        return z.NEVER;
      }
      return a;
    }),
    help: "also serve the local API on loopback TCP (127.0.0.1:PORT or [::1]:PORT), every request with the local token",
    why: "Off: the Unix socket is the safe default (file permissions guard it). TCP is for clients that only speak ws:// and http:// URLs (the Python SDK, other languages); loopback only, and the token guards it (docs/local-api.md §7).",
    group: "endpoints",
  }),
  tokenFile: setting({
    flag: "token-file",
    arg: "PATH",
    default: (env: NodeJS.ProcessEnv) => defaultTokenPath(env),
    shownDefault: ["$XDG_RUNTIME_DIR/runware/token", "/tmp/runware-<uid>/token"],
    schema: z.string().min(1),
    help: "the local token for --listen: created (0600) if missing, kept across restarts",
    why: "Beside the socket in the user's own 0700 directory, so only the user (and what the user gives the file to) can read it, as ssh-agent's socket.",
    group: "endpoints",
  }),
  noJournal: setting({
    flag: "no-journal",
    switch: true,
    default: false,
    schema: z.boolean(),
    help: "keep tasks in memory only: a daemon that dies loses what it had (as before the journal)",
    why: "The journal is what makes a crash lose nothing accepted (docs/reliability.md, The journal); off only for a throwaway daemon.",
    group: "endpoints",
  }),
  journalInputMaxBytes: setting({
    default: 64 * 1024,
    schema: count(0),
    help: "a finished task's input is kept in the journal only up to this size (larger inputs, base64 media, are dropped once it is final)",
    why: "An input is needed only to resend an unfinished task; a finished one keeps a small task (a prompt, a seed: enough to run it again) and drops base64 media.",
    group: "endpoints",
  }),

  // --- tasks -------------------------------------------------------------------------------------
  maxInFlight: setting({
    flag: "max-in-flight",
    arg: "N",
    default: 4,
    schema: count(1).max(10_000),
    help: "tasks outstanding upstream at once",
    why: "Tasks outstanding upstream at once: Runware's recommendation without a capacity agreement.",
    group: "tasks",
    status: true,
  }),
  maxQueued: setting({
    flag: "max-queued",
    arg: "N",
    default: 20_000,
    schema: count(1),
    help: "tasks waiting for a slot; beyond that a batch gets 429",
    why: "Tasks waiting for a slot; beyond this a submit is refused (429), never dropped.",
    group: "tasks",
    status: true,
  }),
  maxQueuedBytes: setting({
    default: 128 * 1024 * 1024,
    schema: count(1024),
    help: "bytes of encoded tasks waiting for a slot; beyond that a batch gets 429, one larger than all of it 413",
    why: "The queue is bounded by bytes as well as by count: 100 queued tasks with a 30 MB seedImage took 9 GB before. An eighth of the daemon's 1 GB (docs/reliability.md): four 30 MB inputs, or thousands of ordinary tasks.",
    group: "tasks",
    status: true,
  }),
  maxFrameBytes: setting({
    default: 32 * 1024 * 1024,
    schema: count(1024),
    help: "largest frame sent upstream; tasks are packed up to it, a larger task is refused (413)",
    why: "Runware documents no message size limit (docs/protocol.md); unbounded packing built 160 MB frames the far end closed with 1009. 32 MiB: the largest request body the daemon takes.",
    group: "tasks",
    status: true,
  }),
  taskTimeoutMs: setting({
    flag: "task-timeout-ms",
    arg: "MS",
    default: 300_000,
    schema: ms,
    help: "every task ends by then",
    why: "Every task ends by then: results, errors, or a timeout error (docs/local-api.md §3.2).",
    group: "tasks",
  }),
  maxAsync: setting({
    flag: "max-async",
    arg: "N",
    default: 32,
    schema: count(1).max(10_000),
    help: "async tasks (video, audio, 3D, training) being polled at once; more wait in the queue while other work goes on",
    why: "An acknowledged async task holds no in-flight slot, only a place here: 32 is room for many minutes-long renders beside the images (the bench runs 20 videos), and every one of them is polled at least every 5 s (pollMaxMs), all in one frame. A bound, not a target: Runware queues what it renders on its side.",
    group: "tasks",
    status: true,
  }),
  asyncTimeoutMs: setting({
    flag: "async-timeout-ms",
    arg: "MS",
    default: 1_800_000,
    schema: ms,
    help: "an async task not finished this long after Runware acknowledged it ends in doubt (a later lookup asks again); also bounds a modelUpload from its submission",
    why: "Counted from the acknowledgement, not the sync task timeout: 30 minutes, over the official TypeScript SDK's 20-minute poll timeout, for renders Runware queues before it starts them. A modelUpload streams its statuses as long (sdk-py waits 15 min, sdk-js 1 h; docs/protocol.md §3.3).",
    group: "tasks",
  }),
  maxTaskRetries: setting({
    default: 3,
    schema: count(0),
    help: "retries of a transient error, under the same taskUUID",
    why: "Retries of a transient error (timeoutProvider, provider*, ...), under the same taskUUID.",
    group: "tasks",
  }),
  retryBaseMs: setting({
    default: 1_000,
    schema: ms,
    help: "first delay ceiling before a transient retry (full jitter, doubling)",
    why: "First ceiling of the jittered delay before a transient retry; doubles per retry.",
    group: "tasks",
  }),
  retryMaxMs: setting({
    default: 10_000,
    schema: ms,
    help: "transient retry delay cap",
    why: "Cap of the retry delay.",
    group: "tasks",
  }),
  pollInitialMs: setting({
    default: 1_000,
    schema: ms,
    help: "first getResponse poll of an async task after this (video, audio, 3D, training: their kind's delay, protocol/task-kinds.ts)",
    why: "Async polling (close to rw-ts, docs/protocol.md §4.4): first getResponse after this...",
    group: "tasks",
  }),
  pollFactor: setting({
    default: 1.5,
    schema: factor,
    help: "each poll delay is the previous one times this",
    why: "...then each delay times this factor...",
    group: "tasks",
  }),
  pollMaxMs: setting({
    default: 5_000,
    schema: ms,
    help: "poll delay cap (each delay is up to 20 % shorter at random; polls due within a quarter of it go in one frame)",
    why: "...never longer than this: a finished render waits at most 5 s to be fetched, and a minute-long one costs about 13 polls, under one per 2 s of render (issue 12's bench target).",
    group: "tasks",
  }),
  maxRecoveryResends: setting({
    default: 2,
    schema: count(0),
    help: "same-UUID resends of a task Runware never saw, before it ends in doubt",
    why: "Same-UUID resubmissions of a task that getResponse says Runware never saw (our send was lost), before it ends in doubt. Safe: a task Runware does not know cannot run twice.",
    group: "tasks",
  }),
  recoveryGraceMs: setting({
    default: 2_000,
    schema: msOrZero,
    help: "after a resumed re-auth, what is still missing after this is polled",
    why: "After a resumed re-auth, Runware replays its buffer at once; what is still missing after this is polled.",
    group: "tasks",
  }),

  // --- the upstream link: heartbeat, connection, backoff -------------------------------------------
  pingIntervalMs: setting({
    flag: "ping-interval-ms",
    arg: "MS",
    default: 20_000,
    schema: ms,
    help: "ping an idle link after this",
    why: "Ping when nothing was received for this long; Runware closes idle sockets after 120 s (docs/protocol.md §2.4, §11.3).",
    group: "link",
  }),
  pongTimeoutMs: setting({
    flag: "pong-timeout-ms",
    arg: "MS",
    default: 10_000,
    schema: ms,
    help: "a ping unanswered this long is a miss; {maxMissedPongs} misses replace the link",
    why: "A ping unanswered this long is a miss; the next ping goes out at once.",
    group: "link",
  }),
  maxMissedPongs: setting({
    default: 2,
    schema: count(1),
    help: "missed pongs before the link is replaced",
    why: "Misses before the socket is terminated: a half-open link is found within 20 + 2 × 10 = 40 s.",
    group: "link",
  }),
  maxUpstreamFrameBytes: setting({
    flag: "max-upstream-frame-bytes",
    arg: "N",
    default: 64 * 1024 * 1024,
    schema: count(1024),
    help: "largest frame taken from Runware; a larger one closes the link (1009) and the daemon reconnects",
    why: "Runware documents no limit (docs/protocol.md); ws's own 100 MiB would let one frame take a sixth of the heap twice over (text and parsed). 64 MiB holds 20 base64 results of 3 MB.",
    group: "link",
    status: true,
  }),
  handshakeTimeoutMs: setting({
    default: 10_000,
    schema: ms,
    help: "a TCP+TLS+upgrade not done by then is given up",
    why: "Give up on a TCP+TLS+upgrade that has not completed by then and back off.",
    group: "link",
  }),
  authTimeoutMs: setting({
    default: 15_000,
    schema: ms,
    help: "wait this long for the authentication reply",
    why: "Wait this long for the `authentication` reply (rw-ts uses 15 s; sdk-js has none and hangs 60 s).",
    group: "link",
  }),
  backoffBaseMs: setting({
    flag: "backoff-base-ms",
    arg: "MS",
    default: 500,
    schema: ms,
    help: "first reconnect delay ceiling (full jitter, doubling)",
    why: "First ceiling of the jittered delay; doubles per failed attempt (docs/protocol.md §11.2: full jitter, cap, floor, minUptime).",
    group: "link",
  }),
  backoffMaxMs: setting({
    flag: "backoff-max-ms",
    arg: "MS",
    default: 30_000,
    schema: ms,
    help: "reconnect delay cap",
    why: "Never wait longer than this between attempts (rw-ts caps at 30 s).",
    group: "link",
  }),
  backoffFloorMs: setting({
    default: 100,
    schema: msOrZero,
    help: "never reconnect sooner than this",
    why: "Never reconnect sooner than this, so a flapping server is not hammered.",
    group: "link",
  }),
  backoffFactor: setting({
    default: 2,
    schema: factor,
    help: "growth of the reconnect delay ceiling per attempt",
    why: "Growth factor of the ceiling per attempt.",
    group: "link",
  }),
  minUptimeMs: setting({
    default: 5_000,
    schema: msOrZero,
    help: "the reconnect attempt count resets once a link stayed ready this long",
    why: "The attempt counter resets only after a connection stayed ready this long.",
    group: "link",
  }),
  sendHighWaterBytes: setting({
    default: 4 * 1024 * 1024,
    schema: count(1),
    help: "stop writing upstream while this many bytes are queued in the socket",
    why: "Stop writing to the socket while this many bytes are queued in it.",
    group: "link",
  }),

  // --- local API ---------------------------------------------------------------------------------
  resultRetentionMs: setting({
    flag: "result-retention-ms",
    arg: "MS",
    default: 600_000,
    schema: msOrZero,
    help: "finished tasks stay readable (at most {resultRetentionMax} of them and {resultRetentionBytes} bytes of results)",
    why: "Finished tasks stay readable (`GET /v1/tasks/{uuid}`) this long, so a caller that went away can come back.",
    group: "local",
  }),
  maxLabels: setting({
    default: 1_000,
    schema: count(1),
    help: "distinct caller labels the daemon keeps; a new one past this is refused (tooManyLabels)",
    why: "Spend is kept by label (issue 16); a script inventing a label per request must not grow that without end.",
    group: "local",
  }),
  budgetUsd: setting({
    flag: "budget-usd",
    arg: "N",
    default: undefined,
    example: "5",
    shownDefault: ["none"],
    schema: z.union([z.undefined(), z.literal("off"), z.coerce.number().positive()]),
    help: "refuse new tasks (402 budgetExceeded) once spend in --budget-window reaches N USD; kept across restarts (off: cleared)",
    why: "No cap unless asked for. Cost is known only when a task ends, so tasks accepted before the cap is reached still run: spend can pass N by at most what was accepted (docs/local-api.md §2.10).",
    group: "tasks",
  }),
  budgetWindowMs: setting({
    flag: "budget-window",
    arg: "DURATION",
    default: 86_400_000,
    shownDefault: ["24h"],
    schema: z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
      const windowMs = typeof v === "number" ? v : parseDuration(v, ["h", "d"]);
      if (windowMs === undefined || windowMs > HISTORY_DAYS_MS) {
        ctx.addIssue({ code: "custom", message: "must be a duration in hours or days (24h, 7d), at most 31d" });
        return z.NEVER;
      }
      return windowMs;
    }),
    help: "the window --budget-usd counts spend over (any h or d duration: 1h, 24h, 7d; at most 31d)",
    why: "A day: what a nightly batch or a day of work spends. Spend is kept 31 days (minute buckets for 48 hours, hour buckets after), so no window can be longer.",
    group: "tasks",
  }),
  historyRetentionMs: setting({
    default: HISTORY_DAYS_MS,
    schema: ms,
    help: "finished tasks stay in the history (and in spend) this long",
    why: "The longest spend window shown (30 days) and the longest budget window (31 days) need this much; older entries are deleted at start and hourly.",
    group: "local",
  }),
  historyMaxBytes: setting({
    default: 512 * 1024 * 1024,
    schema: count(0),
    help: "the history's entries in the journal are kept within this many bytes: past it the oldest lose their details (time, label and cost stay, for spend)",
    why: "Time alone (31 days) does not bound a busy machine's history; 512 MiB is about 400,000 entries, and spend and the budget never lose a task to it.",
    group: "local",
  }),
  historyMemoryBytes: setting({
    default: 8 * 1024 * 1024,
    schema: count(0),
    help: "with --no-journal, the history kept in memory is bounded by this many bytes (oldest dropped first)",
    why: "Without a journal the history lives in memory: a budget in bytes, like every other, so a long day of small tasks cannot grow it without end.",
    group: "local",
  }),
  eventReaderMaxBytes: setting({
    default: 1024 * 1024,
    schema: count(1),
    help: "a reader of GET /v1/events that leaves more than this unread is sent a last 'dropped' line and let go",
    why: "A stuck or slow reader must cost the daemon a bounded amount: 1 MiB is thousands of events, far more than a reader that keeps up ever holds.",
    group: "local",
  }),
  resultRetentionMax: setting({
    default: 10_000,
    schema: count(0),
    help: "finished tasks kept readable at most, oldest dropped first",
    why: "...and at most this many of them (oldest dropped first), so memory stays bounded.",
    group: "local",
  }),
  resultRetentionBytes: setting({
    flag: "result-retention-bytes",
    arg: "N",
    default: 128 * 1024 * 1024,
    schema: count(0),
    help: "bytes of finished tasks' results kept readable; the oldest are evicted first (410)",
    why: "Results are what weighs (250 tasks of 20 base64 images took 3.4 GB when only counted); an eighth of the daemon's 1 GB (docs/reliability.md); results given as URLs weigh almost nothing.",
    group: "local",
    status: true,
  }),
  evictedMarkersMax: setting({
    default: 100_000,
    schema: count(0),
    help: "evicted taskUUIDs remembered (answered 410, not 404), oldest forgotten first",
    why: "So an evicted task reads as evicted, not unknown, for a while; ~100 bytes each, about 10 MB at most.",
    group: "local",
  }),
  maxBodyBytes: setting({
    default: 32 * 1024 * 1024,
    schema: count(1),
    help: "largest request body (413 beyond) and local WebSocket frame",
    why: "Largest request body. Runware tasks may carry base64 images (seedImage, ...), hence generous. In status: the CLI refuses a local file that would not fit before it sends anything.",
    group: "local",
    status: true,
  }),
  maxReadingBytes: setting({
    flag: "max-reading-bytes",
    arg: "N",
    default: 64 * 1024 * 1024,
    schema: count(1),
    help: "bytes of request bodies being read at once, all connections together; past it a body gets 503",
    why: "Bodies are buffered whole before parsing; 2 bodies at the 32 MiB limit read at once, more are refused at once with Retry-After (docs/reliability.md).",
    group: "local",
    status: true,
  }),
  maxClientUnsentBytes: setting({
    flag: "max-client-unsent-bytes",
    arg: "N",
    default: 2 * 1024 * 1024,
    schema: count(1),
    help: "bytes a local WebSocket or NDJSON client has not read yet; past it the client is closed (clientTooSlow)",
    why: "50 WebSocket clients that never read pinned 2.2 GB. A closed client keeps what it has not read until it reads its close reason, so 128 of them fit in --max-unsent-bytes at 2 MiB each (at 16 MiB, 16 did and the rest were cut without a reason). Judged once per event-loop turn: one frame's items all go, and one item larger than this still goes when nothing is waiting.",
    group: "local",
    status: true,
  }),
  maxUnsentBytes: setting({
    flag: "max-unsent-bytes",
    arg: "N",
    default: 256 * 1024 * 1024,
    schema: count(1),
    help: "bytes held for all local clients together (unread, or answers not yet written); past it the one holding most is closed",
    why: "Many clients each under their own budget must not add up: a quarter of the daemon's 1 GB, since a client cut keeps what it was sent until it reads its reason (at 128 MiB, 2 of 50 non-readers in the pressure bench were cut without one; docs/reliability.md).",
    group: "local",
    status: true,
  }),
  maxLocalConnections: setting({
    flag: "max-local-connections",
    arg: "N",
    default: 256,
    schema: count(1),
    help: "connections open on the local socket at once; one more gets 503 and is closed",
    why: "1,100 idle connections locked everyone out under ulimit -n 1024; 256 + 32 lingering refusals + the daemon's own ~30 descriptors stay far below 1024 (docs/reliability.md).",
    group: "local",
    status: true,
  }),
  slowClientGraceMs: setting({
    default: 30_000,
    schema: msOrZero,
    help: "a local client closed for not reading has this long to read what was written to it, then its connection is cut",
    why: "Long enough for a client that paused to see why it was closed (ws's own close timeout); its bytes stay counted meanwhile, and the total budget cuts it at once if it must.",
    group: "local",
  }),
  refusedBodyDrainMs: setting({
    default: 2_000,
    schema: msOrZero,
    help: "after a 413, the rest of the body is read and dropped this long",
    why: 'After refusing a body (413), keep reading and discarding the rest of it this long: closing a socket with unread input makes the kernel reset it, and the client gets ECONNRESET instead of the 413 (the "lingering close" of nginx and Apache).',
    group: "local",
  }),

  socketProbeTimeoutMs: setting({
    default: 1_000,
    schema: ms,
    help: "at start-up, a socket file that neither accepts nor refuses by then is taken for a live daemon's",
    why: "A live daemon's socket accepts at once and a dead one's refuses at once; one that does neither within this is left alone, never stolen.",
    group: "local",
  }),
  maxJsonDepth: setting({
    default: DEFAULT_MAX_JSON_DEPTH,
    schema: count(1).max(1_000),
    help: "a task (local HTTP or WebSocket) or upstream result nested deeper is refused (400) or fails its task (invalidResponse)",
    why: "JSON.stringify overflows the stack a few thousand levels down: one 12 KB request nested 6,000 arrays deep killed the daemon. Runware's tasks nest a few levels (docs/protocol.md §3, §8); 64 leaves room and stays far from the stack.",
    group: "local",
  }),

  // --- the process: stop and logging ---------------------------------------------------------------
  drainTimeoutMs: setting({
    flag: "drain-timeout-ms",
    arg: "MS",
    default: 30_000,
    schema: msOrZero,
    help: "on SIGTERM, in-flight tasks get this long to finish",
    why: "On SIGTERM, in-flight tasks get this long to finish before they are answered as in doubt.",
    group: "process",
  }),
  closeGraceMs: setting({
    default: 1_000,
    schema: msOrZero,
    help: "after the drain, answers being written and WebSocket closes get this long, then are cut",
    why: "Every answer is on its way once the drain is over; a client that does not read it must not hold the stop up.",
    group: "process",
  }),
  logLevel: setting({
    flag: "log-level",
    arg: "LEVEL",
    env: "RUNWARE_LOG_LEVEL",
    default: "info",
    schema: z.enum(LOG_LEVELS),
    help: `pino level: ${LOG_LEVELS.join("|")}`,
    why: "Log level of the daemon (pino levels): info has start-up, stop, link changes and retries; per-task lines are debug.",
    group: "process",
  }),
} satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;
/** Every setting's value, typed by its schema. */
export type Settings = { -readonly [K in SettingKey]: z.output<(typeof SETTINGS)[K]["schema"]> };
/** The settings shown under `limits` in `GET /v1/status`. */
export type StatusKey = { [K in SettingKey]: (typeof SETTINGS)[K] extends { status: true } ? K : never }[SettingKey];

/**
 * The API key is not a setting like the others: never a flag (it would show in `ps`), never in
 * status, logs or errors. It comes from the environment or from a file named by a flag.
 */
export const API_KEY = {
  env: "RUNWARE_API_KEY",
  fileFlag: "api-key-file",
  /** Refused with a hint, without echoing its value. */
  refusedFlag: "api-key",
} as const;
