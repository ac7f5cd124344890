/**
 * The socket as an attacker on the same machine would prepare it before the daemon starts
 * (docs/local-api.md §5: directory 0700, socket 0600; docs/protocol.md §11.5). In every case the daemon
 * refuses to start with an error that names the path and the reason, touches nothing it did not
 * create, and opens no upstream connection. (test/local/socket.test.ts covers the plain cases: a
 * symlink to our own 0700 directory, a 0755 directory, a regular file, a live daemon, a long path.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { Cleanup } from "../helpers/cleanup.js";
import { refusedStart } from "../helpers/refused-start.js";
import { tempDir } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** uid 65534 ("nobody"): someone else, for the ownership cases (root can chown; others skip them). */
const OTHER_UID = 65534;
const isRoot = process.getuid?.() === 0;

/** What a path is, without following it: type, mode, owner, target or content. */
function fingerprint(path: string): string {
  const st = lstatSync(path);
  const kind = st.isSymbolicLink()
    ? `link->${readlinkSync(path)}`
    : st.isFile()
      ? `file:${readFileSync(path, "utf8")}`
      : st.isDirectory()
        ? `dir:${readdirSync(path).join(",")}`
        : st.isFIFO()
          ? "fifo"
          : st.isSocket()
            ? "socket"
            : "other";
  return `${kind} mode=${(st.mode & 0o7777).toString(8)} uid=${st.uid} ino=${st.ino}`;
}

describe("attack - the socket directory", () => {
  it("attack - a socket directory swapped for a symlink into a world-writable directory the attacker owns is refused; nothing is created there", async () => {
    const root = tempDir(cleanup);
    const evil = join(root, "evil");
    mkdirSync(evil);
    chmodSync(evil, 0o777);
    symlinkSync(evil, join(root, "runware-0"));
    const { err, sim } = await refusedStart(cleanup, join(root, "runware-0", "daemon.sock"));
    expect(err.code).toBe("socketDirUnsafe");
    expect(err.message).toContain(join(root, "runware-0"));
    expect(err.message).toMatch(/symlink/);
    expect(readdirSync(evil)).toEqual([]); // no socket planted where the attacker could swap or read it
    expect(statSync(evil).mode & 0o777).toBe(0o777);
    expect(sim.counters.connections).toBe(0);
  });

  it("attack - a dangling symlink planted as the socket directory is refused, and its target is not created", async () => {
    const root = tempDir(cleanup);
    const target = join(root, "later");
    symlinkSync(target, join(root, "runware-0"));
    const { err, sim } = await refusedStart(cleanup, join(root, "runware-0", "daemon.sock"));
    expect(err.code).toMatch(/^socketDir/);
    expect(err.message).toContain(join(root, "runware-0"));
    expect(() => lstatSync(target)).toThrow();
    expect(readlinkSync(join(root, "runware-0"))).toBe(target);
    expect(sim.counters.connections).toBe(0);
  });

  it("attack - in a world-writable sticky parent (like /tmp), a pre-created socket directory of ours with mode 0777 is refused and left as it is", async () => {
    const root = tempDir(cleanup);
    const shared = join(root, "tmp");
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const dir = join(shared, "runware-0");
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const { err, sim } = await refusedStart(cleanup, join(dir, "daemon.sock"));
    expect(err.code).toBe("socketDirUnsafe");
    expect(err.message).toContain(dir);
    expect(err.message).toMatch(/mode 777/);
    expect(err.message).toMatch(/chmod 700/); // says how to fix it
    expect(statSync(dir).mode & 0o777).toBe(0o777); // not silently "fixed": the attacker may already be inside
    expect(readdirSync(dir)).toEqual([]);
    expect(sim.counters.connections).toBe(0);
  });

  it.skipIf(!isRoot)("attack - a 0700 socket directory pre-created by another user is refused", async () => {
    const root = tempDir(cleanup);
    const dir = join(root, "runware-0");
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, OTHER_UID, OTHER_UID);
    const { err, sim } = await refusedStart(cleanup, join(dir, "daemon.sock"));
    expect(err.code).toBe("socketDirUnsafe");
    expect(err.message).toContain(`uid ${OTHER_UID}`);
    expect(readdirSync(dir)).toEqual([]);
    expect(sim.counters.connections).toBe(0);
  });
});

describe("attack - something planted at the socket path", () => {
  it("attack - a symlink at the socket path to a file the attacker wants destroyed: refused, neither link nor file touched", async () => {
    const dir = tempDir(cleanup);
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "precious data", { mode: 0o600 });
    const path = join(dir, "daemon.sock");
    symlinkSync(victim, path);
    const before = [fingerprint(path), fingerprint(victim)];
    const { err, sim } = await refusedStart(cleanup, path);
    expect(err.code).toBe("socketPathInUse");
    expect(err.message).toContain(path);
    expect([fingerprint(path), fingerprint(victim)]).toEqual(before);
    expect(sim.counters.connections).toBe(0);
  });

  it("attack - a symlink at the socket path to the attacker's own listening socket: refused, never connected to, left in place", async () => {
    const dir = tempDir(cleanup);
    const lure = join(dir, "attacker.sock");
    let probed = 0;
    const server = net.createServer((s) => {
      probed++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(lure, () => r()));
    cleanup.defer(() => new Promise<void>((r) => server.close(() => r())));
    const path = join(dir, "daemon.sock");
    symlinkSync(lure, path);
    const before = fingerprint(path);
    const { err, sim } = await refusedStart(cleanup, path);
    // Neither "a daemon is already running" (it would be trusted) nor "stale" (it would be deleted).
    expect(err.code).toBe("socketPathInUse");
    expect(fingerprint(path)).toBe(before);
    expect(probed).toBe(0);
    expect(sim.counters.connections).toBe(0);
  });

  it("attack - a FIFO or a directory at the socket path: refused and left untouched", async () => {
    const dir = tempDir(cleanup);
    const fifo = join(dir, "fifo.sock");
    const made = spawnSync("mkfifo", ["-m", "600", fifo]);
    const asDir = join(dir, "dir.sock");
    mkdirSync(asDir);
    writeFileSync(join(asDir, "inside"), "x");
    for (const path of made.status === 0 ? [fifo, asDir] : [asDir]) {
      const before = fingerprint(path);
      const { err, sim } = await refusedStart(cleanup, path);
      expect(err.code, path).toBe("socketPathInUse");
      expect(err.message).toContain(path);
      expect(fingerprint(path)).toBe(before);
      expect(sim.counters.connections).toBe(0);
    }
  });

  it.skipIf(!isRoot)("attack - a read-only regular file owned by another user at the socket path: refused and never deleted", async () => {
    const dir = tempDir(cleanup);
    const path = join(dir, "daemon.sock");
    writeFileSync(path, "not yours to delete", { mode: 0o444 });
    chownSync(path, OTHER_UID, OTHER_UID);
    const before = fingerprint(path);
    const { err } = await refusedStart(cleanup, path);
    expect(err.code).toBe("socketPathInUse");
    expect(fingerprint(path)).toBe(before);
  });
});
