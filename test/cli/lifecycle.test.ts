/**
 * Finding, starting and stopping the daemon from the command line (README "Everyday use"): `status`,
 * exit 3 when nothing answers, auto-start of a background daemon by the first client verb (ssh
 * ControlMaster style) and its reuse, `start` / `stop`. Background daemons are real detached
 * processes: every test reaps them by the pid file beside the socket, even when it fails.
 */
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { connect } from "../../src/client/index.js";
import { Daemon } from "../../src/local/daemon.js";
import { loadSettings } from "../../src/local/config.js";
import { heapLimitMiB } from "../../src/local/heap.js";
import { SimServer } from "../../src/sim/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import {
  daemonsOnSocket,
  isAlive,
  logFileOf,
  pidFileOf,
  readPid,
  reapBackgroundDaemon,
  runCli,
  startCli,
  stdoutEnvelope,
  stdoutJson,
} from "../helpers/cli.js";
import { daemonConfig, FAST_ENGINE, startRig, TEST_KEY, tempDir } from "../helpers/daemon.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A simulator, a socket path nobody listens on yet (in a fresh private dir), and a reaper for it. */
async function noDaemonYet() {
  const dir = tempDir(cleanup);
  const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
  const socketPath = join(dir, "run", "daemon.sock");
  const reaper = reapBackgroundDaemon(cleanup, socketPath);
  // What a user has in their shell: a key, and (here) the simulator as Runware.
  const env = { RUNWARE_API_KEY: TEST_KEY, RUNWARE_URL: sim.url };
  return { dir, sim, socketPath, reaper, env };
}

describe("cli - status", () => {
  it("cli - status prints the daemon's status with a ready upstream link", async () => {
    const rig = await startRig(cleanup);
    const r = await runCli(cleanup, ["status", "--socket", rig.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    const status = stdoutJson(r);
    expect(status).toMatchObject({
      upstream: { state: "ready", sessionUUID: rig.sim.counters.auths[0]!.sessionUUID, reconnects: 0, lastError: null },
      tasks: { queued: 0, inFlight: 0 },
      limits: { maxInFlight: rig.cfg.maxInFlight },
      version: expect.any(String),
    });
    expect(r.stdout).not.toContain(TEST_KEY);
  });

  it("cli - status exits 3 when no daemon answers, and never starts one", async () => {
    const { sim, socketPath, env } = await noDaemonYet();
    const r = await runCli(cleanup, ["status", "--socket", socketPath], { env });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`no daemon on ${socketPath}`);
    expect(existsSync(socketPath)).toBe(false);
    expect(existsSync(pidFileOf(socketPath))).toBe(false);
    expect(sim.counters.connections).toBe(0);
  });
});

describe("cli - no daemon", () => {
  it("cli - a client verb exits 3 with --no-autostart, even with a key", async () => {
    const { sim, socketPath, env } = await noDaemonYet();
    const r = await runCli(cleanup, ["text-to-image", "--prompt", "a fox", "--no-autostart", "--socket", socketPath], { env });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`no daemon on ${socketPath}`);
    expect(existsSync(socketPath)).toBe(false);
    expect(sim.counters.connections).toBe(0);
  });

  it("cli - a client verb exits 3 without RUNWARE_API_KEY and says how to fix it", async () => {
    const { sim, socketPath } = await noDaemonYet();
    const r = await runCli(cleanup, ["model-search", "--search", "flux", "--socket", socketPath], { env: {} });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no daemon on .*RUNWARE_API_KEY/);
    expect(existsSync(socketPath)).toBe(false);
    expect(sim.counters.connections).toBe(0);
  });
});

describe("cli - auto-start", () => {
  it("cli - the first verb starts a background daemon, the next reuses it, and stop ends it", async () => {
    const { sim, socketPath, reaper, env } = await noDaemonYet();
    const first = await runCli(
      cleanup,
      ["text-to-image", "--prompt", "a fox", "--width", "256", "--height", "256", "--socket", socketPath],
      { env },
    );
    const pid = reaper.note();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`starting a daemon on ${socketPath}`);
    expect(stdoutEnvelope(first).data).toHaveLength(1);
    expect(pid).toBeDefined();
    expect(isAlive(pid!)).toBe(true);
    // Its log is beside the socket, and the key is not in it.
    const log = join(socketPath, "..", "daemon.log");
    expect(readFileSync(log, "utf8")).toContain(`listening on ${socketPath}`);
    expect(readFileSync(log, "utf8")).not.toContain(TEST_KEY);

    const second = await runCli(cleanup, ["model-search", "--search", "flux", "--socket", socketPath], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain("starting a daemon");
    // One daemon, one upstream connection, one authentication for both verbs.
    expect(sim.counters.connections).toBe(1);
    expect(sim.counters.auths).toHaveLength(1);

    const stop = await runCli(cleanup, ["stop", "--socket", socketPath], { env });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stderr).toContain(`daemon ${pid} stopped`);
    expect(existsSync(socketPath)).toBe(false);
    expect(existsSync(pidFileOf(socketPath))).toBe(false);
    await waitFor(() => !isAlive(pid!), "the daemon process to exit");
  });
});

describe("cli - auto-start race", () => {
  /** What `xargs -P3 runware text-to-image ...` does: three verbs at once, each free to start a daemon. */
  function threeVerbs(socketPath: string, env: Record<string, string>) {
    return Promise.all(
      ["a fox", "a cat", "an owl"].map((prompt) =>
        runCli(cleanup, ["text-to-image", "--prompt", prompt, "--width", "128", "--height", "128", "--socket", socketPath], { env }),
      ),
    );
  }

  /** Once the verbs are done, one daemon runs, the pid file names it, and stop ends it before saying so. */
  async function oneNamedDaemonThenStop(socketPath: string, env: Record<string, string>) {
    const pid = readPid(socketPath);
    expect(pid).toBeDefined();
    // No starter's child is still on its way: a late one would take the socket after stop.
    expect(daemonsOnSocket(socketPath)).toEqual([pid]);
    const stop = await runCli(cleanup, ["stop", "--socket", socketPath], { env });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stderr).toContain(`daemon ${pid} stopped`);
    // "stopped" means the process is gone, not only its socket.
    expect(isAlive(pid!)).toBe(false);
    expect(existsSync(socketPath)).toBe(false);
    expect(existsSync(pidFileOf(socketPath))).toBe(false);
    expect(daemonsOnSocket(socketPath)).toEqual([]);
  }

  it("cli - verbs started together with no daemon share one, and stop still finds it", async () => {
    const { sim, socketPath, reaper, env } = await noDaemonYet();
    const runs = await threeVerbs(socketPath, env);
    reaper.note();
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(stdoutEnvelope(r).data).toHaveLength(1);
    }
    expect(sim.counters.connections).toBe(1);
    await oneNamedDaemonThenStop(socketPath, env);
  });

  it("cli - verbs started together over a killed daemon's socket replace it with one daemon, named by the pid file", async () => {
    const { sim, socketPath, reaper, env } = await noDaemonYet();
    const start = await runCli(cleanup, ["start", "--socket", socketPath], { env });
    expect(start.code, start.stderr).toBe(0);
    const dead = reaper.note()!;
    const client = connect({ socket: socketPath });
    await waitFor(async () => (await client.status()).upstream.state === "ready", "the first daemon's upstream link");
    process.kill(dead, "SIGKILL");
    await waitFor(() => !isAlive(dead), "the first daemon to die");
    // What it left: a socket nobody answers on, and a pid file naming a dead process.
    expect(existsSync(socketPath)).toBe(true);
    expect(readPid(socketPath)).toBe(dead);

    const runs = await threeVerbs(socketPath, env);
    reaper.note();
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(readPid(socketPath)).not.toBe(dead);
    // The dead daemon's link and the one new daemon's.
    expect(sim.counters.connections).toBe(2);
    await oneNamedDaemonThenStop(socketPath, env);
  });

  it("cli - a verb that started a daemon returns only once that daemon won the socket or gave up", async () => {
    const { sim, socketPath, reaper, env } = await noDaemonYet();
    const verb = startCli(cleanup, ["model-search", "--search", "flux", "--socket", socketPath], { env });
    // The verb found no daemon and is starting one; another daemon comes up first and answers it.
    await waitFor(() => existsSync(logFileOf(socketPath)), "the verb to start a daemon");
    const other = cleanup.add(await Daemon.start(daemonConfig(sim.url, socketPath), { engine: FAST_ENGINE }), (d) => d.stop());
    const r = await verb.result;
    reaper.note();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("starting a daemon");
    // The verb's own child lost and is gone: it cannot take the socket once this daemon stops.
    expect(daemonsOnSocket(socketPath)).toEqual([]);
    await other.stop();
    expect(existsSync(socketPath)).toBe(false);
    expect(daemonsOnSocket(socketPath)).toEqual([]);
  });
});

describe("cli - start and stop", () => {
  it("cli - start runs a daemon in the background, status sees it, stop ends it", async () => {
    const { sim, socketPath, reaper, env } = await noDaemonYet();
    const flags = ["--max-in-flight", "7", "--result-retention-bytes", String(32 * 1024 * 1024)];
    const start = await runCli(cleanup, ["start", "--socket", socketPath, ...flags], { env });
    const pid = reaper.note();
    expect(start.code, start.stderr).toBe(0);
    expect(start.stderr).toContain(`daemon started (pid ${pid}) on ${socketPath}`);
    expect(isAlive(pid!)).toBe(true);
    // It runs under the heap limit of its own budgets (as ps shows): 96 MiB less store than the default.
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const heap = heapLimitMiB(loadSettings(flags, {}));
    expect(heap).toBe(heapLimitMiB(loadSettings([], {})) - 96);
    expect(argv).toContain(`--max-old-space-size=${heap}`);

    // `start` returns once the daemon answers; its upstream link follows shortly.
    const client = connect({ socket: socketPath });
    await waitFor(async () => (await client.status()).upstream.state === "ready", "the upstream link to be ready");
    const status = await runCli(cleanup, ["status", "--socket", socketPath], { env });
    expect(status.code, status.stderr).toBe(0);
    // Extra flags reached the daemon.
    expect(stdoutJson(status)).toMatchObject({ upstream: { state: "ready" }, limits: { maxInFlight: 7 } });

    // A second start finds it and leaves it alone.
    const again = await runCli(cleanup, ["start", "--socket", socketPath], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already running");
    expect(sim.counters.connections).toBe(1);

    const stop = await runCli(cleanup, ["stop", "--socket", socketPath], { env });
    expect(stop.code, stop.stderr).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
    await waitFor(() => !isAlive(pid!), "the daemon process to exit");
    const after = await runCli(cleanup, ["status", "--socket", socketPath], { env });
    expect(after.code).toBe(3);
  });

  it("cli - start without a key is a configuration error (exit 2) and starts nothing", async () => {
    const { sim, socketPath, env } = await noDaemonYet();
    const r = await runCli(cleanup, ["start", "--socket", socketPath], { env: { RUNWARE_URL: env.RUNWARE_URL } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no API key: set RUNWARE_API_KEY/);
    expect(existsSync(socketPath)).toBe(false);
    expect(existsSync(pidFileOf(socketPath))).toBe(false);
    expect(sim.counters.connections).toBe(0);
  });

  it("cli - start understands --socket=PATH too, waits on that socket, and passes --flag=value options on", async () => {
    const { socketPath, reaper, env } = await noDaemonYet();
    const start = await runCli(cleanup, ["start", `--socket=${socketPath}`, "--max-in-flight=3"], { env });
    const pid = reaper.note();
    expect(start.code, start.stderr).toBe(0);
    expect(start.stderr).toContain(`on ${socketPath}`);
    expect(isAlive(pid!)).toBe(true);
    expect((await connect({ socket: socketPath }).status()).limits.maxInFlight).toBe(3);
    const stop = await runCli(cleanup, ["stop", `--socket=${socketPath}`], { env });
    expect(stop.code, stop.stderr).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
  });

  it("cli - start refuses an unknown option or a bad value (exit 2) before anything starts", async () => {
    const { sim, socketPath, env } = await noDaemonYet();
    const unknown = await runCli(cleanup, ["start", "--socket", socketPath, "--max-in-fligth", "7"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/runware start: .*'--max-in-fligth'/);
    const bad = await runCli(cleanup, ["start", "--socket", socketPath, "--max-in-flight", "0"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/runware start: --max-in-flight/);
    const key = await runCli(cleanup, ["start", "--socket", socketPath, "--api-key=sk-not-a-flag-value"], { env });
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/--api-key is not accepted .*RUNWARE_API_KEY/);
    expect(key.stderr).not.toContain("sk-not-a-flag-value");
    // Nothing was spawned: no log, no pid file, no socket, no upstream connection.
    expect(existsSync(logFileOf(socketPath))).toBe(false);
    expect(existsSync(pidFileOf(socketPath))).toBe(false);
    expect(existsSync(socketPath)).toBe(false);
    expect(sim.counters.connections).toBe(0);
  });

  it("cli - stop with an empty or nonsense pid file signals nobody and exits 3", async () => {
    const { socketPath, env } = await noDaemonYet();
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
    // (Not "-1": were that ever signalled again, kill(-1) would reach every process we own.)
    for (const content of ["", " \n", "0", "abc"]) {
      writeFileSync(pidFileOf(socketPath), content);
      // Were it signalled, kill(0) would hit this test's own process group and end the run.
      const r = await runCli(cleanup, ["stop", "--socket", socketPath], { env });
      expect(r.code, `${JSON.stringify(content)}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/no valid pid/);
    }
  });

  it("cli - stop with a pid file naming a live process that is not a daemon (a reused pid) signals nobody and exits 3", async () => {
    const { socketPath, env } = await noDaemonYet();
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
    const bystander = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    cleanup.defer(() => {
      bystander.kill("SIGKILL");
    });
    writeFileSync(pidFileOf(socketPath), `${bystander.pid}\n`);
    const r = await runCli(cleanup, ["stop", "--socket", socketPath], { env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/not a runware daemon/);
    expect(bystander.exitCode).toBeNull();
    expect(isAlive(bystander.pid!)).toBe(true);
  });

  it("cli - stop with no daemon started exits 3", async () => {
    const { socketPath, env } = await noDaemonYet();
    const r = await runCli(cleanup, ["stop", "--socket", socketPath], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no pid file/);
  });
});
