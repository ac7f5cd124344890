/**
 * The Unix socket the local API listens on, with the hygiene of ssh-agent, Docker and tailscaled
 * (docs/protocol.md §11.5):
 * - the directory is ours alone: created 0700; refused if it is a symlink, owned by someone else,
 *   or open to group/other (an attacker who can write there could swap the socket);
 * - the socket is created 0600 (umask around listen), under a temporary name and then hard-linked
 *   into place, so two starters cannot both win; the socket file itself is the lock;
 * - a socket file nobody answers on is a leftover of a killed daemon and is replaced, but only the
 *   very file that was probed (moved aside, its inode checked): two starters replacing one
 *   leftover cannot delete each other's live socket; a live one means "already running";
 * - the winner writes its pid file in the same tick as it links the socket, so anyone the socket
 *   answers finds the pid file naming it; and it removes both while still listening, when nobody
 *   else may replace them.
 */
import { lstatSync, linkSync, renameSync, unlinkSync, chmodSync, statSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import type { Server } from "node:http";
import { privateDirProblem } from "./private-dir.js";
import { RunwareDaemonError } from "../errors.js";
import { MAX_SOCKET_PATH_BYTES } from "../paths.js";
import { withLock } from "./lockfile.js";
import { aside, removePidFileIfNames, unlinkQuietly, writePidFile } from "./pidfile.js";

export class SocketError extends RunwareDaemonError {}

export class AlreadyRunningError extends SocketError {
  constructor(path: string) {
    super("alreadyRunning", `a daemon is already listening on ${path}`);
  }
}

interface Probe {
  state: "live" | "stale" | "absent";
  /** The inode that was probed (not for "absent"). */
  ino?: number;
}

/** Is something answering on `path`? Never deletes anything. */
function probeSocket(path: string, timeoutMs: number): Promise<Probe> {
  return new Promise((resolve, reject) => {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      resolve({ state: "absent" });
      return;
    }
    const ino = st.ino;
    if (!st.isSocket()) {
      reject(new SocketError("socketPathInUse", `${path} exists and is not a socket; refusing to touch it`));
      return;
    }
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ state: "live", ino }); // accepted but silent: someone holds it; do not steal it
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ state: "live", ino });
    });
    sock.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === "ECONNREFUSED") resolve({ state: "stale", ino });
      else if (err.code === "ENOENT") resolve({ state: "absent" });
      else reject(new SocketError("socketProbeFailed", `cannot probe ${path}: ${err.code ?? err.message}`));
    });
  });
}

/** Create (0700) or check the socket's directory. Throws SocketError with the reason to refuse. */
export function prepareSocketDir(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new SocketError(
      "socketPathTooLong",
      `socket path is ${Buffer.byteLength(path)} bytes; the limit is ${MAX_SOCKET_PATH_BYTES}: ${path}`,
    );
  }
  const problem = privateDirProblem(dirname(path));
  if (problem) throw new SocketError(problem.code === "dirUnusable" ? "socketDirUnusable" : "socketDirUnsafe", problem.message);
}

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    // umask 0177 for the bind: the socket is born 0600, with no window in which it is wider.
    const old = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off("error", onError);
        resolve();
      });
    } finally {
      process.umask(old);
    }
  });
}

export interface BoundSocket {
  path: string;
  /**
   * Remove the pid file and the socket file where they are still ours. Call it while the server
   * still listens: a socket that answers is never replaced, so nothing removed is another daemon's.
   */
  unlink(): void;
}

export interface BindOptions {
  /** Write our pid here as we win the path (a background daemon's pid file); unlink() removes it. */
  pidFile?: string;
}

/** Rounds of "someone else got there first" before giving up; each needs another starter to act. */
const MAX_ROUNDS = 10;

/** Bind `server` to `path` safely; see the module comment. */
export async function bindUnixSocket(server: Server, path: string, probeTimeoutMs: number, opts: BindOptions = {}): Promise<BoundSocket> {
  prepareSocketDir(path);
  return withLock(`${path}.lock`, () => bindLocked(server, path, probeTimeoutMs, opts));
}

/** The bind itself, with the lock beside the socket held (lockfile.ts). */
async function bindLocked(server: Server, path: string, probeTimeoutMs: number, opts: BindOptions): Promise<BoundSocket> {
  await clearLeftover(path, probeTimeoutMs);
  const tmp = aside(path, "tmp");
  unlinkQuietly(tmp); // a leftover of a dead process that had our pid
  await listenOn(server, tmp);
  try {
    chmodSync(tmp, 0o600);
    for (let round = 0; ; round++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || round >= MAX_ROUNDS) throw err;
      }
      // Another starter linked first: ours may go in only if what it left is already dead.
      await clearLeftover(path, probeTimeoutMs);
    }
    // Same tick as the link: no request is answered before the pid file names us.
    if (opts.pidFile) writePidFile(opts.pidFile);
  } catch (err) {
    await new Promise<void>((r) => server.close(() => r()));
    throw err;
  } finally {
    unlinkQuietly(tmp); // server.close() may have removed it
  }
  const ino = statSync(path).ino;
  return {
    path,
    unlink() {
      if (opts.pidFile) removePidFileIfNames(opts.pidFile, process.pid);
      try {
        if (lstatSync(path).ino === ino) unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}

/**
 * Make `path` free, or throw AlreadyRunningError when a daemon answers there. A leftover is moved
 * aside (atomic) and deleted only if it is the file that was probed dead (same inode, and still
 * dead: an inode number can be reused); a live socket another starter put there meanwhile is put back.
 */
async function clearLeftover(path: string, probeTimeoutMs: number): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const probe = await probeSocket(path, probeTimeoutMs);
    if (probe.state === "absent") return;
    if (probe.state === "live") throw new AlreadyRunningError(path);
    const moved = aside(path, "stale");
    try {
      renameSync(path, moved);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // another starter removed it: look again
      throw err;
    }
    if (lstatSync(moved).ino === probe.ino && (await probeSocket(moved, probeTimeoutMs)).state !== "live") {
      unlinkSync(moved);
      return;
    }
    try {
      linkSync(moved, path);
    } catch {
      /* the path was taken again meanwhile: the next probe decides */
    }
    unlinkSync(moved);
  }
  throw new SocketError("socketPathBusy", `${path} keeps changing under us; is something else replacing it?`);
}
