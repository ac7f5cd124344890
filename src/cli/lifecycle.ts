/**
 * `start`, `stop`: the daemon as a background service, for people who do not run it under systemd
 * (a user unit is in scripts/). `start` never takes the key as a flag: it inherits
 * RUNWARE_API_KEY, or passes --api-key-file through.
 */
import { existsSync, readFileSync } from "node:fs";
import { connect, DaemonUnreachableError } from "../client/index.js";
import { daemonFiles, defaultSocketPath } from "../paths.js";
import { readPidFile, removePidFileIfNames } from "../local/pidfile.js";
import { parseFlags, type FlagValues } from "../util/args.js";
import { EXIT, int, parseClient, say, str, usage } from "./args.js";
import { CLIENT_DEFAULTS as D } from "./defaults.js";

const START_USAGE = `usage: runware start [--socket PATH] [--api-key-file PATH] [daemon options...]
  Starts 'runware daemon' in the background (log and pid beside the socket) and waits until it answers.
  Every daemon option is passed on (see 'runware daemon --help'); a bad one is refused before anything starts.`;

export async function start(argv: string[]): Promise<number> {
  // Loaded here, not at the top: the config module needs zod, and the other verbs must not load it.
  const { daemonFlagSpecs, loadDaemonConfig, refuseApiKeyFlag } = await import("../local/config.js");
  refuseApiKeyFlag(argv);
  const { values } = parseFlags(argv, { help: { type: "boolean", short: "h" }, ...daemonFlagSpecs() });
  if (values["help"]) return usage(START_USAGE);
  const passOn = toArgv(values, ["help", "socket"]);
  // What the daemon would refuse (a bad value, no key) is refused here, with its message and exit 2.
  const socket = loadDaemonConfig(toArgv(values, ["help"])).socketPath;
  try {
    await connect({ socket }).status();
    say(`runware: a daemon is already running on ${socket}`);
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
  }
  const { startBackgroundDaemon } = await import("./autostart.js");
  const pid = await startBackgroundDaemon(socket, passOn);
  say(`runware: daemon started${pid === undefined ? "" : ` (pid ${pid})`} on ${socket}; log: ${daemonFiles(socket).log}`);
  return EXIT.ok;
}

/** Parsed flags back into argv, in the `--flag=value` form (a value may start with '-'). */
function toArgv(values: FlagValues, except: readonly string[]): string[] {
  return Object.entries(values).flatMap(([flag, v]) => {
    if (except.includes(flag)) return [];
    const all: unknown[] = Array.isArray(v) ? v : [v];
    return all.flatMap((x) => (x === true ? [`--${flag}`] : typeof x === "string" ? [`--${flag}=${x}`] : []));
  });
}

const STOP_USAGE = `usage: runware stop [--socket PATH] [--timeout-ms N]
  Asks the background daemon to drain and stop (SIGTERM), and waits until its process has exited
  (default --timeout-ms ${D.stopTimeoutMs}).`;

export async function stop(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, { "timeout-ms": { type: "string" } });
  if (values["help"]) return usage(STOP_USAGE);
  const socket = str(values, "socket") ?? defaultSocketPath();
  const timeoutMs = int(values, "timeout-ms", 1) ?? D.stopTimeoutMs;
  const { pid: pidFile } = daemonFiles(socket);
  if (!existsSync(pidFile)) {
    say(`runware: no pid file at ${pidFile}; was the daemon started with 'runware start'?`);
    return EXIT.unreachable;
  }
  // An empty or torn file must not read as 0 (kill(0) signals our own process group) or -1 (every
  // process we own): only a real pid is signalled.
  const pid = readPidFile(pidFile);
  if (pid === undefined) {
    say(`runware: ${pidFile} holds no valid pid`);
    return EXIT.unreachable;
  }
  // A pid file left by a daemon killed long ago may name a pid reused by an unrelated process.
  if (!isRunwareDaemon(pid)) {
    say(`runware: pid ${pid} in ${pidFile} is not a runware daemon (a reused pid?); nothing signalled`);
    removePidFileIfNames(pidFile, pid);
    return EXIT.unreachable;
  }
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    say(`runware: no daemon process ${pid}`);
    removePidFileIfNames(pidFile, pid);
    return EXIT.unreachable;
  }
  // Done when the process is gone, not when its socket is: the daemon removes the socket before it
  // has finished, and one killed meanwhile leaves a stale socket (which the next daemon replaces).
  // No request is made: one accepted in the last moments of a drain could wait on a daemon that is exiting.
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) {
      removePidFileIfNames(pidFile, pid); // a daemon that died without cleaning up; a newer daemon's is kept
      say(`runware: daemon ${pid} stopped`);
      return EXIT.ok;
    }
    await new Promise((r) => setTimeout(r, D.stopPollMs));
  }
  say(`runware: daemon ${pid} did not stop within ${timeoutMs} ms`);
  return EXIT.errors;
}

/** Alive, and not a zombie waiting to be reaped (containers without an init leave those). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ...": the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): kill(0) said it exists
  }
}

/** Whether `pid` runs `runware daemon`; true when /proc cannot tell (gone: kill() says so; macOS). */
function isRunwareDaemon(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("daemon");
  } catch {
    return true;
  }
}
