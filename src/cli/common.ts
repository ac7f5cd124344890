/**
 * What every client verb shares: exit codes, output (full JSON on stdout, human words on stderr),
 * finding the daemon, and starting one in the background when none answers (ssh ControlMaster
 * `auto` style). Light imports only: client verbs must start about as fast as bare Node.
 */
import { spawn } from "node:child_process";
import { mkdirSync, openSync, closeSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, DaemonUnreachableError, type Envelope, type RunwareClient } from "../client/index.js";
import { defaultSocketPath } from "../local/paths.js";

export const EXIT = {
  ok: 0,
  /** The answer carried `errors`. */
  errors: 1,
  /** Usage or configuration error. */
  usage: 2,
  /** No daemon could be reached (and none could be started). */
  unreachable: 3,
} as const;

export class UsageError extends Error {
  override name = "UsageError";
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function say(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Exit code for a Runware envelope: 1 when `errors` is present (the old helper's contract). */
export function exitFor(env: Envelope): number {
  return env.errors && env.errors.length > 0 ? EXIT.errors : EXIT.ok;
}

export interface ClientFlags {
  socket?: string | undefined;
  noAutostart?: boolean | undefined;
}

/** Flags every client verb takes (node:util parseArgs option specs). */
export const CLIENT_OPTIONS = {
  socket: { type: "string" },
  "no-autostart": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export const CLIENT_USAGE = `  --socket PATH      the daemon's socket (default: RUNWARE_SOCKET, $XDG_RUNTIME_DIR/runware/daemon.sock, /tmp/runware-<uid>/daemon.sock)
  --no-autostart     do not start a daemon when none answers (default: start one when RUNWARE_API_KEY is set)`;

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "main.js");

/** Where a background daemon writes its log and pid: beside its socket, in the 0700 directory. */
export function daemonFiles(socket: string): { log: string; pid: string } {
  return { log: join(dirname(socket), "daemon.log"), pid: join(dirname(socket), "daemon.pid") };
}

/**
 * Start `runware daemon` detached, logging to a file beside the socket, and wait until it answers.
 * The key reaches it through the inherited environment, never through argv. Resolves with the pid
 * of the daemon that answers: the one that wrote the pid file after winning the socket (ours, or
 * another starter's when several verbs raced; ours then exits 1 without touching the pid file).
 */
export async function startBackgroundDaemon(socket: string, extraArgs: string[] = [], timeoutMs = 10_000): Promise<number> {
  mkdirSync(dirname(socket), { recursive: true, mode: 0o700 });
  const files = daemonFiles(socket);
  const out = openSync(files.log, "a", 0o600);
  const child = spawn(process.execPath, [MAIN, "daemon", "--socket", socket, ...extraArgs], {
    detached: true,
    stdio: ["ignore", out, out],
    env: process.env,
  });
  closeSync(out);
  let exited: number | null = null;
  child.once("exit", (code) => (exited = code ?? 1));
  child.unref();
  const client = connect({ socket });
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    try {
      await client.status();
      return readPidFile(files.pid) ?? child.pid ?? -1;
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) throw err;
    }
    // Checked after the status attempt: a starter that lost the race sees its child exit, but the winner answers.
    if (exited !== null) throw new Error(`the daemon exited with code ${exited}; see ${files.log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the daemon did not answer within ${timeoutMs} ms; see ${files.log}`);
}

function readPidFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A client for the daemon; when nothing answers and a key is available, start a daemon first.
 * Returns undefined (after saying why) when no daemon can be reached.
 */
export async function reachDaemon(flags: ClientFlags): Promise<RunwareClient | undefined> {
  const socket = flags.socket ?? defaultSocketPath();
  const client = connect({ socket });
  try {
    await client.status();
    return client;
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
  }
  if (flags.noAutostart || !process.env["RUNWARE_API_KEY"]) {
    say(`runware: no daemon on ${socket}.${flags.noAutostart ? "" : " Set RUNWARE_API_KEY to let it start one,"} or run 'runware start' / 'runware daemon'.`);
    return undefined;
  }
  say(`runware: starting a daemon on ${socket} (log: ${daemonFiles(socket).log})`);
  await startBackgroundDaemon(socket);
  return client;
}
