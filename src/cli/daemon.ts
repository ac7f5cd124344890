/**
 * `runware daemon`: the daemon in the foreground until SIGTERM/SIGINT (docs/local-api.md §1).
 * Exit codes: 0 after a clean drain, 2 for a configuration error (one line on stderr), 1 when it
 * cannot start (another daemon is live on the socket, unsafe socket directory, ...).
 */
import { createLogger } from "../log.js";
import { RunwareDaemonError, UsageError } from "../errors.js";
import { daemonHelp, loadDaemonConfig, type DaemonConfig } from "../local/config.js";
import { Daemon } from "../local/daemon.js";
import { daemonFiles } from "../paths.js";

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
  await done;
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  return 0;
}
