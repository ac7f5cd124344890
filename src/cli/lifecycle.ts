/**
 * `status`, `start`, `stop`: the daemon as a background service, for people who do not run it
 * under systemd (a user unit is in scripts/). `start` never takes the key as a flag: it inherits
 * RUNWARE_API_KEY, or passes --api-key-file through.
 */
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import { connect, DaemonUnreachableError } from "../client/index.js";
import { daemonFiles, defaultSocketPath } from "../local/paths.js";
import { EXIT, int, parse, printJson, say, usage, UsageError } from "./args.js";

const STATUS_USAGE = `usage: runware status [--socket PATH]
  Prints the daemon's status as JSON. Exit 3 when no daemon answers (it never starts one).`;

export async function status(argv: string[]): Promise<number> {
  const { values } = parse(argv, {});
  if (values["help"]) return usage(STATUS_USAGE);
  const socket = (values["socket"] as string | undefined) ?? defaultSocketPath();
  try {
    printJson(await connect({ socket }).status());
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
    say(`runware: no daemon on ${socket}`);
    return EXIT.unreachable;
  }
}

const START_USAGE = `usage: runware start [--socket PATH] [--api-key-file PATH] [daemon options...]
  Starts 'runware daemon' in the background (log and pid beside the socket) and waits until it answers.
  Any other option is passed to the daemon (see 'runware daemon --help').`;

export async function start(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) return usage(START_USAGE);
  // --socket PATH or --socket=PATH: both forms, or the = form would reach the daemon but not us.
  let socket = defaultSocketPath();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--socket") {
      const next = argv[++i];
      if (!next) throw new UsageError("--socket needs a PATH");
      socket = next;
    } else if (arg.startsWith("--socket=")) {
      socket = arg.slice("--socket=".length);
      if (!socket) throw new UsageError("--socket needs a PATH");
    } else rest.push(arg);
  }
  if (!process.env["RUNWARE_API_KEY"] && !rest.includes("--api-key-file")) {
    throw new UsageError("no API key: set RUNWARE_API_KEY in the environment or pass --api-key-file PATH");
  }
  try {
    await connect({ socket }).status();
    say(`runware: a daemon is already running on ${socket}`);
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
  }
  const { startBackgroundDaemon } = await import("./autostart.js");
  const pid = await startBackgroundDaemon(socket, rest);
  say(`runware: daemon started (pid ${pid}) on ${socket}; log: ${daemonFiles(socket).log}`);
  return EXIT.ok;
}

const STOP_USAGE = `usage: runware stop [--socket PATH] [--timeout-ms N]
  Asks the background daemon to drain and stop (SIGTERM), and waits until its socket is gone.`;

export async function stop(argv: string[]): Promise<number> {
  const { values } = parse(argv, { "timeout-ms": { type: "string" } });
  if (values["help"]) return usage(STOP_USAGE);
  const socket = (values["socket"] as string | undefined) ?? defaultSocketPath();
  const timeoutMs = int("timeout-ms", values["timeout-ms"], 1) ?? 60_000;
  const { pid: pidFile } = daemonFiles(socket);
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, "utf8").trim());
  } catch {
    say(`runware: no pid file at ${pidFile}; was the daemon started with 'runware start'?`);
    return EXIT.unreachable;
  }
  // An empty or torn file reads as 0 (kill(0) signals our own process group) or worse, -1 (every
  // process we own): only a real pid is signalled.
  if (!Number.isInteger(pid) || pid <= 1) {
    say(`runware: ${pidFile} holds no valid pid`);
    return EXIT.unreachable;
  }
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    say(`runware: no daemon process ${pid}`);
    unlinkQuietly(pidFile);
    return EXIT.unreachable;
  }
  // Done when the daemon has removed its socket (its last step), or when the process is gone (a
  // daemon killed meanwhile leaves a stale socket, which the next daemon replaces). No request is
  // made: one accepted in the last moments of a drain could wait on a daemon that is exiting.
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!existsSync(socket) || !processAlive(pid)) {
      unlinkQuietly(pidFile);
      say(`runware: daemon ${pid} stopped`);
      return EXIT.ok;
    }
    await new Promise((r) => setTimeout(r, 25));
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

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* gone already */
  }
}
