/**
 * Starting `runware daemon` in the background: for `runware start` and for client verbs that find
 * no daemon. Loaded only on that path (child_process and fs cost start-up time).
 */
import { spawn } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, DaemonUnreachableError, type RunwareClient } from "../client/index.js";
import { loadSettings } from "../local/config.js";
import { heapFlag } from "../local/heap.js";
import { readPidFile } from "../local/pidfile.js";
import { daemonFiles } from "../paths.js";
import { CLIENT_DEFAULTS as D } from "./defaults.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "main.js");

/**
 * Start `runware daemon` detached, logging to a file beside the socket, and wait until a daemon
 * answers. The key reaches it through the inherited environment, never through argv.
 *
 * When several verbs start one at once, one child wins the socket and the others exit 1. This
 * returns only once our child is settled: it is the daemon that answers, or it has exited. A child
 * still starting when we return could take the socket later, after the daemon that answered was
 * stopped, and run on unnamed by the pid file that `runware stop` reads.
 * Resolves with the pid of the daemon that answers (its pid file names it).
 */
export async function startBackgroundDaemon(
  socket: string,
  extraArgs: string[] = [],
  timeoutMs: number = D.autostartTimeoutMs,
): Promise<number | undefined> {
  mkdirSync(dirname(socket), { recursive: true, mode: 0o700 });
  const files = daemonFiles(socket);
  const out = openSync(files.log, "a", 0o600);
  const child = spawn(process.execPath, [...heapArgs(extraArgs), MAIN, "daemon", "--socket", socket, ...extraArgs], {
    detached: true,
    stdio: ["ignore", out, out],
    env: process.env,
  });
  closeSync(out);
  let exited: number | null = null;
  child.once("exit", (code) => (exited = code ?? 1));
  child.unref();
  const client = connect({ socket });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Read before asking: a child that lost did so because a daemon was live, so one answers now.
    const gone = exited !== null;
    const answered = await answers(client);
    const owner = answered ? readPidFile(files.pid) : undefined;
    if (answered && (owner === child.pid || gone)) return owner;
    if (!answered && gone) throw new Error(`the daemon exited with code ${String(exited)}; see ${files.log}`);
    if (Date.now() >= deadline) {
      if (!answered) throw new Error(`the daemon did not answer within ${timeoutMs} ms; see ${files.log}`);
      child.kill("SIGTERM"); // another daemon answers and ours is stuck before the socket: it must not take over later
      return owner;
    }
    await new Promise((r) => setTimeout(r, D.autostartPollMs));
  }
}

/** The daemon's heap limit from the budgets it will run with (local/heap.ts); none if its flags are bad: it says why itself. */
function heapArgs(extraArgs: string[]): string[] {
  try {
    return [heapFlag(loadSettings(extraArgs))];
  } catch {
    return [];
  }
}

async function answers(client: RunwareClient): Promise<boolean> {
  try {
    await client.status();
    return true;
  } catch (err) {
    if (err instanceof DaemonUnreachableError) return false;
    throw err;
  }
}
