/**
 * Starting `runware daemon` in the background: for `runware start` and for client verbs that find
 * no daemon. Loaded only on that path (child_process and fs cost start-up time).
 */
import { spawn } from "node:child_process";
import { mkdirSync, openSync, closeSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, DaemonUnreachableError } from "../client/index.js";
import { daemonFiles } from "../local/paths.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "main.js");

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
