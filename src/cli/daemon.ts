/**
 * `runware daemon`: the daemon in the foreground until SIGTERM/SIGINT (docs/local-api.md §1).
 * Exit codes: 0 after a clean drain, 2 for a configuration error (one line on stderr), 1 when it
 * cannot start (another daemon is live on the socket, unsafe socket directory, ...), 70 after an
 * uncaught exception or unhandled rejection (the last resort below).
 */
import { existsSync, unlinkSync } from "node:fs";
import { createLogger, type Logger } from "../log.js";
import { RunwareDaemonError, UsageError } from "../errors.js";
import { daemonHelp, loadDaemonConfig, type DaemonConfig } from "../local/config.js";
import { heapCheck, heapFlag } from "../local/heap.js";
import { Daemon } from "../local/daemon.js";
import { daemonFiles } from "../paths.js";
import { scrub } from "../util/scrub.js";

/** Exit code after an uncaught exception or unhandled rejection (sysexits' EX_SOFTWARE). */
const INTERNAL_ERROR_EXIT = 70;
/** The reason every pending task's error names (never the exception's text: it is the daemon's, not the caller's). */
const CRASH_REASON = "an internal error";

export async function runDaemon(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${daemonHelp()}\n`);
    return 0;
  }
  let cfg: DaemonConfig;
  try {
    cfg = loadDaemonConfig(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`runware daemon: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(cfg.logLevel);
  const heap = heapCheck(cfg);
  if (heap.unbounded)
    logger.warn(
      { heapLimitMiB: heap.limitMiB, budgetsNeedMiB: heap.wantMiB },
      `started without a heap limit near its budgets: memory may pass them with garbage; start it with \`runware start\`, or node ${heapFlag(cfg)} (docs/reliability.md)`,
    );
  let daemon: Daemon;
  try {
    // The daemon that wins the socket names itself beside it (not its starter): when several verbs
    // auto-start at once, the losers exit 1 and leave the pid file alone.
    daemon = await Daemon.start(cfg, { logger, pidFile: daemonFiles(cfg.socketPath).pid });
  } catch (err) {
    if (err instanceof RunwareDaemonError) {
      process.stderr.write(`runware daemon: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let signals = 0;
  let stopped!: () => void;
  const done = new Promise<void>((r) => (stopped = r));
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // A second signal means "now": no drain.
      process.stderr.write(`runware daemon: ${sig} again, exiting without drain\n`);
      process.exit(sig === "SIGINT" ? 130 : 143);
    }
    void daemon.stop(sig).then(stopped);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  const lastResort = lastResortHandler(daemon, cfg, logger);
  process.on("uncaughtException", lastResort);
  process.on("unhandledRejection", lastResort);
  armTestCrash(daemon, process.env["RUNWARE_DAEMON_TEST_CRASH"]);
  await done;
  process.off("uncaughtException", lastResort);
  process.off("unhandledRejection", lastResort);
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  return 0;
}

/**
 * The last resort (docs/local-api.md §6): after an uncaught exception or unhandled rejection the
 * daemon's state cannot be trusted, so it does not carry on. Every pending task ends at once (in
 * doubt if it was sent, aborted if not), so every waiting caller gets its answer naming its
 * taskUUID; the answers are written (bounded by closeGraceMs), the socket file is removed, the
 * error is logged once, and the process exits 70.
 */
function lastResortHandler(daemon: Daemon, cfg: DaemonConfig, logger: Logger): (err: unknown) => void {
  const log = logger.child({ mod: "daemon" });
  let hit = false;
  return (err: unknown) => {
    // Once: an error met while aborting changes nothing, and must not log again.
    if (hit) return;
    hit = true;
    const e = err instanceof Error ? err : new Error(String(err));
    log.fatal(
      {
        err: { type: e.name, message: scrub(e.message, cfg.apiKey), stack: scrub(e.stack ?? "", cfg.apiKey) },
        pending: daemon.engine.pendingCount,
      },
      "uncaught error: every waiting caller is answered in doubt, then the daemon exits",
    );
    const exit = () => {
      // While we listen no other daemon can have replaced the socket: what is there is ours.
      try {
        if (existsSync(cfg.socketPath)) unlinkSync(cfg.socketPath);
      } catch {
        /* nothing more to do */
      }
      process.exit(INTERNAL_ERROR_EXIT);
    };
    // Not unref'd: a stop that hangs on broken state must not keep a half-dead daemon around.
    setTimeout(exit, cfg.closeGraceMs + 1_000);
    const settled = daemon.engine.close(CRASH_REASON);
    // With nothing pending, the orderly stop skips its drain: local WebSockets closed, the socket
    // file removed, HTTP answers written (at most closeGraceMs), then the server is closed.
    Promise.allSettled([settled, daemon.stop(CRASH_REASON)]).then(exit, exit);
  };
}

/**
 * Test-only (test/reliability/edges.test.ts): RUNWARE_DAEMON_TEST_CRASH=exception[:N] (or
 * rejection[:N]) throws an uncaught exception (or leaves a rejection unhandled) once N tasks (1 by
 * default) have been sent upstream, so the last resort is tested on a real process. Ignored unless
 * set; no route or flag reaches it.
 */
function armTestCrash(daemon: Daemon, spec: string | undefined): void {
  const m = /^(exception|rejection)(?::(\d+))?$/.exec(spec ?? "");
  if (!m) return;
  let left = Number(m[2] ?? 1);
  const onMove = (_uuid: string, _from: string, to: string) => {
    if (to !== "sent" || --left > 0) return;
    daemon.engine.off("move", onMove);
    setImmediate(() => {
      const err = new Error(`RUNWARE_DAEMON_TEST_CRASH=${spec ?? ""}`);
      if (m[1] === "exception") throw err;
      void Promise.reject(err);
    });
  };
  daemon.engine.on("move", onMove);
}
