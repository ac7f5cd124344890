/**
 * A short-lived lock beside the socket, so that only one starter at a time replaces a dead daemon's
 * socket and links its own: with three or more starters over one leftover, a starter putting back
 * a socket it had moved aside could delete another's live one (two daemons, one unreachable).
 * The lock file holds its owner's pid; a lock whose owner is gone (killed mid-start) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { RunwareDaemonError } from "../errors.js";

/** How long a starter waits for another starter's bind before giving up. */
const WAIT_MS = 10_000;
const RETRY_MS = 10;

/** Whether the pid written in `lock` is a live process (an unreadable or empty lock: true, its writer is within microseconds). */
export function ownerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, "utf8").trim());
  } catch {
    return false; // gone meanwhile: try again
  }
  // A lock being written has no pid yet: treat it as alive; its writer is within microseconds.
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

/** A killed process nobody has reaped yet (an orphaned daemon under a non-reaping init) still answers kill(pid, 0): it is dead all the same. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false; // no /proc (macOS): kill(pid, 0) is all we know
  }
}

/** Take the lock (waiting for a live holder), run `fn`, release it. */
export async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(lock, "wx", 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (!ownerAlive(lock)) {
      try {
        unlinkSync(lock);
      } catch {
        /* another starter took it over first */
      }
      continue;
    }
    if (Date.now() > deadline) throw new RunwareDaemonError("socketPathBusy", `${lock} is held by another starting daemon`);
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
  try {
    return await fn();
  } finally {
    try {
      if (Number(readFileSync(lock, "utf8").trim()) === process.pid) unlinkSync(lock);
    } catch {
      /* already gone */
    }
  }
}
