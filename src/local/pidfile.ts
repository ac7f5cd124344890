/**
 * The pid file beside a background daemon's socket, read by `runware stop` and by auto-start. Only
 * the daemon that owns the socket writes it (socket.ts, as it wins the path), and it is replaced
 * whole (write aside, rename), so a reader sees one pid or none, never a torn one.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";

let seq = 0;
/** A private name beside `path` for one step of this process (unique within it too). */
export const aside = (path: string, what: string): string => `${path}.${process.pid}.${++seq}.${what}`;

/** The pid the file names, or undefined when it is missing, empty or not a real pid (0 and -1 would signal groups). */
export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writePidFile(path: string, pid: number = process.pid): void {
  const tmp = aside(path, "tmp");
  writeFileSync(tmp, `${pid}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Remove the file if it names `pid`. Moved aside first and checked there: a daemon that took over
 * the socket meanwhile may have written its own pid, and that one is put back, not deleted.
 */
export function removePidFileIfNames(path: string, pid: number): void {
  if (readPidFile(path) !== pid) return;
  const moved = aside(path, "old");
  try {
    renameSync(path, moved);
  } catch {
    return; // gone already
  }
  if (readPidFile(moved) !== pid) {
    try {
      linkSync(moved, path);
    } catch {
      /* an even newer one is in place */
    }
  }
  unlinkQuietly(moved);
}

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* gone already */
  }
}
