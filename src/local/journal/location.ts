/**
 * Where a daemon's journal lives and who holds it: one journal per socket path (two daemons on two
 * sockets never share one), in the state directory (0700; the files 0600), guarded by a lock file
 * holding the owner's pid. A lock whose owner is gone (a SIGKILLed daemon) is taken over; a live
 * owner means another daemon has this journal, and this one refuses to start.
 */
import { createHash } from "node:crypto";
import { chmodSync, closeSync, mkdirSync, openSync, unlinkSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { RunwareDaemonError } from "../../errors.js";
import { ownerAlive } from "../lockfile.js";

export interface JournalPaths {
  readonly dir: string;
  readonly file: string;
  readonly lock: string;
}

/** `<stateDir>/journal-<16 hex of sha256(socket path)>.sqlite`: stable per socket, safe as a file name whatever the path. */
export function journalPaths(stateDir: string, socketPath: string): JournalPaths {
  const id = createHash("sha256").update(resolve(socketPath)).digest("hex").slice(0, 16);
  const file = join(stateDir, `journal-${id}.sqlite`);
  return { dir: stateDir, file, lock: `${file}.lock` };
}

export class JournalLockedError extends RunwareDaemonError {
  constructor(readonly lock: string) {
    super("journalLocked", `another daemon (pid in ${lock}) holds this journal: one daemon per socket and journal`);
  }
}

/** Make the directory (0700) and take the lock; returns its release. */
export function lockJournal(paths: JournalPaths): () => void {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(paths.lock, "wx", 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return () => unlinkSync(paths.lock);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new JournalLockedError(paths.lock);
        throw err;
      }
      if (ownerAlive(paths.lock)) throw new JournalLockedError(paths.lock);
      unlinkSync(paths.lock); // its owner died without letting go: ours now
    }
  }
}
