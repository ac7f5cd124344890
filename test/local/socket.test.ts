/**
 * Socket hygiene (docs/local-api.md §5, docs/protocol.md §11.5): a private 0700 directory, a 0600 socket,
 * and refusals for anything an attacker could have prepared, with nothing touched and no upstream
 * connection opened.
 */
import { afterEach, describe, expect, it } from "vitest";
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_SOCKET_PATH_BYTES } from "../../src/paths.js";
import { Cleanup } from "../helpers/cleanup.js";
import { refusedStart } from "../helpers/refused-start.js";
import { getJson, startRig, tempDir } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("local api - socket security", () => {
  it("local api - creates the socket directory 0700 and the socket 0600", async () => {
    const rig = await startRig(cleanup, { socketName: "fresh/daemon.sock" });
    expect(statSync(join(rig.dir, "fresh")).mode & 0o777).toBe(0o700);
    const st = lstatSync(rig.socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect((await getJson(rig.socketPath, "/v1/status")).status).toBe(200);
    // No temporary name left beside it.
    expect(readdirSync(join(rig.dir, "fresh"))).toEqual(["daemon.sock"]);
  });

  it("local api - refuses a socket directory that is a symlink, and opens no upstream connection", async () => {
    const dir = tempDir(cleanup);
    mkdirSync(join(dir, "real"), { mode: 0o700 });
    symlinkSync(join(dir, "real"), join(dir, "link"));
    const { err, sim } = await refusedStart(cleanup, join(dir, "link", "daemon.sock"));
    expect(err.code).toBe("socketDirUnsafe");
    expect(err.message).toMatch(/symlink/);
    expect(() => lstatSync(join(dir, "real", "daemon.sock"))).toThrow();
    expect(sim.counters.connections).toBe(0);
  });

  it("local api - refuses a socket directory open to group/other (0755) and leaves its mode alone", async () => {
    const dir = tempDir(cleanup);
    const open = join(dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o755);
    const { err, sim } = await refusedStart(cleanup, join(open, "daemon.sock"));
    expect(err.code).toBe("socketDirUnsafe");
    expect(statSync(open).mode & 0o777).toBe(0o755);
    expect(() => lstatSync(join(open, "daemon.sock"))).toThrow();
    expect(sim.counters.connections).toBe(0);
  });

  it("local api - refuses a socket path too long for sockaddr_un", async () => {
    const dir = tempDir(cleanup);
    const long = join(dir, "d".repeat(MAX_SOCKET_PATH_BYTES), "daemon.sock");
    const { err } = await refusedStart(cleanup, long);
    expect(err.code).toBe("socketPathTooLong");
    expect(err.message).toContain(String(MAX_SOCKET_PATH_BYTES));
  });

  it("local api - leaves a regular file at the socket path untouched and refuses to start", async () => {
    const dir = tempDir(cleanup);
    const path = join(dir, "daemon.sock");
    writeFileSync(path, "precious data", { mode: 0o600 });
    const { err, sim } = await refusedStart(cleanup, path);
    expect(err.code).toBe("socketPathInUse");
    expect(readFileSync(path, "utf8")).toBe("precious data");
    expect(lstatSync(path).isFile()).toBe(true);
    expect(sim.counters.connections).toBe(0);
  });

  it("local api - refuses to start on a live daemon's socket; the first keeps serving", async () => {
    const rig = await startRig(cleanup);
    const { err, sim } = await refusedStart(cleanup, rig.socketPath);
    expect(err.code).toBe("alreadyRunning");
    expect(sim.counters.connections).toBe(0);
    expect(lstatSync(rig.socketPath).isSocket()).toBe(true);
    expect((await getJson(rig.socketPath, "/v1/status")).json!["upstream"].state).toBe("ready");
  });

  it("local api - removes its socket file on stop", async () => {
    const rig = await startRig(cleanup);
    await rig.daemon.stop();
    expect(() => lstatSync(rig.socketPath)).toThrow();
  });
});
