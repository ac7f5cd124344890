/**
 * The daemon's configuration from flags and environment (contract §1), validated once at start-up.
 * The API key comes only from `RUNWARE_API_KEY` or `--api-key-file`: a flag value would show in `ps`.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULTS } from "../defaults.js";
import { RunwareDaemonError } from "../errors.js";
import { defaultSocketPath } from "./paths.js";

export class ConfigError extends RunwareDaemonError {
  constructor(message: string) {
    super("invalidConfig", message);
  }
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const ms = z.coerce.number().int().min(1);
const ConfigSchema = z.object({
  upstreamUrl: z.string().regex(/^wss?:\/\//, "must be a ws:// or wss:// URL"),
  socketPath: z.string().min(1),
  maxInFlight: z.coerce.number().int().min(1).max(10_000),
  maxQueued: z.coerce.number().int().min(1),
  taskTimeoutMs: ms,
  pingIntervalMs: ms,
  pongTimeoutMs: ms,
  backoffBaseMs: ms,
  backoffMaxMs: ms,
  resultRetentionMs: z.coerce.number().int().min(0),
  drainTimeoutMs: z.coerce.number().int().min(0),
  logLevel: z.enum(LOG_LEVELS),
});

export type DaemonConfig = z.infer<typeof ConfigSchema> & { apiKey: string };

/** Flag name → config key. Every flag is documented in the README with its default. */
const FLAGS = {
  upstream: "upstreamUrl",
  socket: "socketPath",
  "max-in-flight": "maxInFlight",
  "max-queued": "maxQueued",
  "task-timeout-ms": "taskTimeoutMs",
  "ping-interval-ms": "pingIntervalMs",
  "pong-timeout-ms": "pongTimeoutMs",
  "backoff-base-ms": "backoffBaseMs",
  "backoff-max-ms": "backoffMaxMs",
  "result-retention-ms": "resultRetentionMs",
  "drain-timeout-ms": "drainTimeoutMs",
  "log-level": "logLevel",
} as const;

export const DAEMON_USAGE = `usage: runware daemon [options]
  Runs the daemon in the foreground until SIGTERM/SIGINT.
  API key: RUNWARE_API_KEY in the environment, or --api-key-file PATH.
  --upstream URL            Runware WebSocket URL (env RUNWARE_URL; default ${DEFAULTS.upstreamUrl})
  --socket PATH             Unix socket (env RUNWARE_SOCKET; default $XDG_RUNTIME_DIR/runware/daemon.sock
                            or /tmp/runware-<uid>/daemon.sock)
  --max-in-flight N         tasks outstanding upstream at once (default ${DEFAULTS.maxInFlight})
  --max-queued N            tasks waiting for a slot before 429 (default ${DEFAULTS.maxQueued})
  --task-timeout-ms MS      every task ends by then (default ${DEFAULTS.taskTimeoutMs})
  --ping-interval-ms MS     ping an idle upstream link after (default ${DEFAULTS.pingIntervalMs})
  --pong-timeout-ms MS      a ping unanswered this long is a miss (default ${DEFAULTS.pongTimeoutMs})
  --backoff-base-ms MS      first reconnect delay ceiling (default ${DEFAULTS.backoffBaseMs})
  --backoff-max-ms MS       reconnect delay cap (default ${DEFAULTS.backoffMaxMs})
  --result-retention-ms MS  finished tasks stay readable (default ${DEFAULTS.resultRetentionMs})
  --drain-timeout-ms MS     on SIGTERM, wait this long for in-flight tasks (default ${DEFAULTS.drainTimeoutMs})
  --log-level LEVEL         ${LOG_LEVELS.join("|")} (default ${DEFAULTS.logLevel})`;

export function loadDaemonConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: "string" as const }]));
    ({ values } = parseArgs({ args: argv, options: { ...options, "api-key-file": { type: "string" } }, strict: true }));
  } catch (err) {
    // parseArgs names the flag; it never echoes a value, so a mistyped key flag cannot leak here.
    throw new ConfigError((err as Error).message.split("\n")[0] ?? "bad arguments");
  }
  if ("api-key" in values)
    throw new ConfigError("--api-key is not accepted (it would show in ps); set RUNWARE_API_KEY or use --api-key-file");

  const raw: Record<string, unknown> = {
    upstreamUrl: env["RUNWARE_URL"] || DEFAULTS.upstreamUrl,
    socketPath: defaultSocketPath(env),
    maxInFlight: DEFAULTS.maxInFlight,
    maxQueued: DEFAULTS.maxQueued,
    taskTimeoutMs: DEFAULTS.taskTimeoutMs,
    pingIntervalMs: DEFAULTS.pingIntervalMs,
    pongTimeoutMs: DEFAULTS.pongTimeoutMs,
    backoffBaseMs: DEFAULTS.backoffBaseMs,
    backoffMaxMs: DEFAULTS.backoffMaxMs,
    resultRetentionMs: DEFAULTS.resultRetentionMs,
    drainTimeoutMs: DEFAULTS.drainTimeoutMs,
    logLevel: env["RUNWARE_LOG_LEVEL"] || DEFAULTS.logLevel,
  };
  for (const [flag, key] of Object.entries(FLAGS)) {
    const v = values[flag];
    if (typeof v === "string") raw[key] = v;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    const flag = Object.entries(FLAGS).find(([, k]) => k === key)?.[0] ?? key;
    throw new ConfigError(`--${flag}: ${issue?.message ?? "invalid value"}`);
  }
  return { ...parsed.data, apiKey: readApiKey(values["api-key-file"], env) };
}

function readApiKey(file: string | boolean | undefined, env: NodeJS.ProcessEnv): string {
  let key: string | undefined;
  if (typeof file === "string") {
    try {
      key = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new ConfigError(`--api-key-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
    if (!key) throw new ConfigError(`--api-key-file: ${file} is empty`);
    return key;
  }
  key = env["RUNWARE_API_KEY"]?.trim();
  if (!key) throw new ConfigError("no API key: set RUNWARE_API_KEY in the environment or pass --api-key-file PATH");
  return key;
}
