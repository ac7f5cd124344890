/**
 * The local token's file (issue 17): created 0600 once and read back the same; refused when it is
 * a symlink (to a token someone else knows), when its directory is open to others, or when it
 * holds no usable token. The constant-time check accepts only the token.
 */
import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadOrCreateToken, TokenCheck, TokenFileError } from "../../src/local/token.js";
import { thrown } from "../helpers/thrown.js";
import { Cleanup } from "../helpers/cleanup.js";
import { tempDir } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("local token file", () => {
  it("token - made once, 0600, in a 0700 directory, and the same when read again; only it passes the check", () => {
    const file = join(tempDir(cleanup), "run", "token");
    const token = loadOrCreateToken(file);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, "..")).mode & 0o777).toBe(0o700);
    expect(loadOrCreateToken(file)).toBe(token);
    const check = new TokenCheck(token);
    expect(check.matches(token)).toBe(true);
    expect(check.matches(`${token}x`)).toBe(false);
    expect(check.matches(undefined)).toBe(false);
    expect(check.matches(42)).toBe(false);
  });

  it("token - a symlink, a directory others can write, or a file without a usable token is refused with the reason", () => {
    const dir = tempDir(cleanup);
    const known = join(dir, "known");
    writeFileSync(known, "a-token-someone-else-knows-123456\n", { mode: 0o644 });
    const linked = join(dir, "linked");
    mkdirSync(linked, { mode: 0o700 });
    symlinkSync(known, join(linked, "token"));
    expect(thrown(TokenFileError, () => loadOrCreateToken(join(linked, "token"))).message).toContain("symlink");
    expect(statSync(known).mode & 0o777).toBe(0o644); // not chmod'ed through the link
    const open = join(dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o775);
    expect(thrown(TokenFileError, () => loadOrCreateToken(join(open, "token"))).message).toContain(
      "must not be writable by group or others",
    );
    // A directory others may read but not write (a home directory) is fine: the file itself is 0600.
    const home = join(dir, "home");
    mkdirSync(home);
    chmodSync(home, 0o755);
    expect(loadOrCreateToken(join(home, "token"))).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const short = join(dir, "short");
    mkdirSync(short, { mode: 0o700 });
    writeFileSync(join(short, "token"), "abc\n", { mode: 0o600 });
    expect(thrown(TokenFileError, () => loadOrCreateToken(join(short, "token"))).message).toContain("at least 16 characters");
  });
});
