/**
 * Where the daemon's socket lives. Shared by the daemon and every client, and kept free of heavy
 * imports so a one-shot client starts fast. Order (docs/local-api.md §1): `--socket`, `RUNWARE_SOCKET`,
 * `$XDG_RUNTIME_DIR/runware/daemon.sock`, `/tmp/runware-<uid>/daemon.sock`.
 */
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? 0): string {
  if (env["RUNWARE_SOCKET"]) return env["RUNWARE_SOCKET"];
  if (env["XDG_RUNTIME_DIR"]) return join(env["XDG_RUNTIME_DIR"], "runware", "daemon.sock");
  return join("/tmp", `runware-${uid}`, "daemon.sock");
}

/** Where the daemon keeps its journal: `$XDG_STATE_HOME/runware`, else `~/.local/state/runware` (XDG base directories). */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env["XDG_STATE_HOME"]) return join(env["XDG_STATE_HOME"], "runware");
  return join(env["HOME"] || homedir(), ".local", "state", "runware");
}

/**
 * sockaddr_un's sun_path is 108 bytes on Linux and 104 on macOS/BSD, including the NUL; refuse
 * anything that would not fit everywhere rather than fail with a cryptic EINVAL.
 */
export const MAX_SOCKET_PATH_BYTES = 103;

/** Where a background daemon writes its log and pid: beside its socket, in the 0700 directory. */
export function daemonFiles(socket: string): { log: string; pid: string } {
  return { log: join(dirname(socket), "daemon.log"), pid: join(dirname(socket), "daemon.pid") };
}

/** The local token for the loopback listener (issue 17): beside the default socket, in the same 0700 directory. */
export function defaultTokenPath(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? 0): string {
  if (env["XDG_RUNTIME_DIR"]) return join(env["XDG_RUNTIME_DIR"], "runware", "token");
  return join("/tmp", `runware-${uid}`, "token");
}
