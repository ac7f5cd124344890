/**
 * The local token (issue 17): what a TCP caller shows instead of file permissions. Random (32
 * bytes, base64url), created once and kept in its file (0600, in a 0700 directory) so restarts and
 * auto-started daemons keep it and callers can read it again. Compared in constant time; never
 * logged, never in status or an error (only the file's path is).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { closeSync, constants, fchmodSync, fstatSync, linkSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { RunwareDaemonError } from "../errors.js";
import { privateDirProblem } from "./private-dir.js";

/** 256 bits: as strong as Runware's own keys, and far beyond guessing at any rate loopback allows. */
const TOKEN_BYTES = 32;
const MIN_CHARS = 16;

export class TokenFileError extends RunwareDaemonError {
  constructor(file: string, why: string) {
    super("tokenFile", `the token file ${file} ${why}`);
  }
}

/**
 * The token in `file`, created there first if there is none. Its directory must be ours and
 * writable by no one else (private-dir.ts), and the file is opened without following a symlink and checked through that
 * one descriptor (owner, then 0600), so no other user can swap in a token they know.
 */
export function loadOrCreateToken(file: string): string {
  const problem = privateDirProblem(dirname(file), true);
  if (problem) throw new TokenFileError(file, `is in an unsafe directory: ${problem.message}`);
  // Written whole to a file of our own, then linked into place: a start racing this one reads
  // either no file (and makes its own, one of the two links wins) or the whole token, never half.
  const fresh = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(fresh, `${randomBytes(TOKEN_BYTES).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
    linkSync(fresh, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new TokenFileError(file, `cannot be created: ${(err as Error).message}`);
  } finally {
    rmSync(fresh, { force: true });
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new TokenFileError(file, `cannot be opened (a symlink is refused): ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TokenFileError(file, "is not a regular file");
    if (st.uid !== process.getuid?.()) throw new TokenFileError(file, "belongs to another user");
    fchmodSync(fd, 0o600);
    const token = readFileSync(fd, "utf8").trim();
    if (token.length < MIN_CHARS || /\s/.test(token))
      throw new TokenFileError(file, `must hold one token of at least ${MIN_CHARS} characters`);
    return token;
  } finally {
    closeSync(fd);
  }
}

/** Checks a presented token against the daemon's in constant time (digests of equal length, whatever was sent). */
export class TokenCheck {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = sha256(token);
  }

  matches(given: unknown): boolean {
    return typeof given === "string" && timingSafeEqual(sha256(given), this.digest);
  }
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
