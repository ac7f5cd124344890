/**
 * The Unix socket the local API listens on, with the hygiene of ssh-agent, Docker and tailscaled
 * (docs/protocol.md §11.5):
 * - the directory is ours alone: created 0700; refused if it is a symlink, owned by someone else,
 *   or open to group/other (an attacker who can write there could swap the socket);
 * - the socket is created 0600 (umask around listen), under a temporary name and then hard-linked
 *   into place, so two starters cannot both win; the socket file itself is the lock;
 * - a socket file nobody answers on is a leftover of a killed daemon and is replaced;
 *   a live one means "already running" and is left untouched.
 */
import { lstatSync, mkdirSync, linkSync, unlinkSync, chmodSync, statSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import type { Server } from "node:http";
import { RunwareDaemonError } from "../errors.js";
import { MAX_SOCKET_PATH_BYTES } from "./paths.js";

export class SocketError extends RunwareDaemonError {}

export class AlreadyRunningError extends SocketError {
  constructor(path: string) {
    super("alreadyRunning", `a daemon is already listening on ${path}`);
  }
}

export type ProbeResult = "live" | "stale" | "absent";

/** Is something answering on `path`? Never deletes anything. */
export function probeSocket(path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      resolve("absent");
      return;
    }
    if (!st.isSocket()) {
      reject(new SocketError("socketPathInUse", `${path} exists and is not a socket; refusing to touch it`));
      return;
    }
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve("live"); // accepted but silent: someone holds it; do not steal it
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.destroy();
      resolve("live");
    });
    sock.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === "ECONNREFUSED") resolve("stale");
      else if (err.code === "ENOENT") resolve("absent");
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
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new SocketError("socketDirUnusable", `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new SocketError("socketDirUnsafe", `${dir} is a symlink; refusing to use it`);
  if (!st.isDirectory()) throw new SocketError("socketDirUnsafe", `${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new SocketError("socketDirUnsafe", `${dir} is owned by uid ${st.uid}, not by us (uid ${uid}); refusing to use it`);
  }
  if ((st.mode & 0o077) !== 0) {
    throw new SocketError(
      "socketDirUnsafe",
      `${dir} has mode ${(st.mode & 0o777).toString(8)}; it must not be open to group or others (chmod 700 ${dir})`,
    );
  }
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
  /** Remove the socket file if it is still ours (another daemon may have replaced it). */
  unlink(): void;
}

/** Bind `server` to `path` safely; see the module comment. */
export async function bindUnixSocket(server: Server, path: string, probeTimeoutMs: number): Promise<BoundSocket> {
  prepareSocketDir(path);
  const state = await probeSocket(path, probeTimeoutMs);
  if (state === "live") throw new AlreadyRunningError(path);
  if (state === "stale") unlinkSync(path);

  const tmp = `${path}.${process.pid}.tmp`;
  try {
    unlinkSync(tmp);
  } catch {
    /* not there: fine */
  }
  await listenOn(server, tmp);
  chmodSync(tmp, 0o600);
  try {
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // Someone created it between our probe and link: only a dead leftover may be replaced.
      if ((await probeSocket(path, probeTimeoutMs)) === "live") throw new AlreadyRunningError(path);
      unlinkSync(path);
      linkSync(tmp, path);
    }
  } catch (err) {
    await new Promise<void>((r) => server.close(() => r()));
    throw err;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* server.close() may have removed it */
    }
  }
  const ino = statSync(path).ino;
  return {
    path,
    unlink() {
      try {
        if (lstatSync(path).ino === ino) unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}
