/**
 * The Node client (`import { connect } from "runware-daemon"`, README "The Node client") against a
 * real daemon on a Unix socket: run, stream, task, status, and its two error classes. Also its
 * promise of a fast start: loading it pulls in nothing from node_modules (no ws, zod, pino).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { connect, DaemonUnreachableError, RequestRefusedError, type StreamFrame } from "../../src/client/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { CLI_MAIN, postTasks, startRig, tempDir, UUID_V4 } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(async () => {
  vi.unstubAllEnvs();
  await cleanup.run();
});

describe("client - run, stream, task, status", () => {
  it("client - run answers with Runware's envelope once every task is final, errors included", async () => {
    const rig = await startRig(cleanup);
    const good = randomUUID();
    const bad = randomUUID();
    const env = await connect({ socket: rig.socketPath }).run([
      imageTask({ taskUUID: good, numberResults: 2 }),
      imageTask({ taskUUID: bad, width: 100 }),
    ]);
    expect(env.data).toHaveLength(2);
    expect(env.data.every((d) => d.taskUUID === good && typeof d["imageURL"] === "string")).toBe(true);
    expect(env.errors).toEqual([expect.objectContaining({ code: "invalidWidth", taskUUID: bad })]);
  });

  it("client - run assigns a taskUUID where the task has none", async () => {
    const rig = await startRig(cleanup);
    const env = await connect({ socket: rig.socketPath }).run([{ taskType: "modelSearch", search: "flux" }]);
    expect(env.errors).toBeUndefined();
    expect(env.data).toEqual([expect.objectContaining({ taskType: "modelSearch", taskUUID: expect.stringMatching(UUID_V4) })]);
  });

  it("client - stream yields frames as results arrive and ends with exactly one done frame", async () => {
    // One frame per image, spread over the work time: the stream must deliver them one by one.
    const rig = await startRig(cleanup, { sim: { workMs: 150, split: "each" } });
    const good = randomUUID();
    const bad = randomUUID();
    const frames: Array<{ frame: StreamFrame; at: number }> = [];
    const t0 = performance.now();
    for await (const frame of connect({ socket: rig.socketPath }).stream([
      imageTask({ taskUUID: good, numberResults: 3 }),
      imageTask({ taskUUID: bad, height: 100 }),
    ])) {
      frames.push({ frame, at: performance.now() - t0 });
    }
    const last = frames.at(-1)!.frame;
    expect(last).toEqual({ done: true, tasks: 2, completed: 1, failed: 1, inDoubt: 0, results: 3 });
    expect(frames.filter((f) => "done" in f.frame)).toHaveLength(1);
    const dataFrames = frames.filter((f) => "data" in f.frame);
    expect(dataFrames.flatMap((f) => ("data" in f.frame ? f.frame.data : [])).map((d) => d.taskUUID)).toEqual([good, good, good]);
    // Not buffered until the end: the first image came well before the last.
    expect(dataFrames.at(-1)!.at - dataFrames[0]!.at).toBeGreaterThan(30);
    expect(frames.filter((f) => "errors" in f.frame).map((f) => f.frame)).toEqual([
      { errors: [expect.objectContaining({ code: "invalidHeight", taskUUID: bad })] },
    ]);
  });

  it("client - task reports a running task, waits for it with wait:true, and is undefined for an unknown UUID", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 300 } });
    const client = connect({ socket: rig.socketPath });
    const uuid = randomUUID();
    const running = client.run([imageTask({ taskUUID: uuid, numberResults: 2 })]);
    await waitFor(() => rig.sim.counters.received[uuid] === 1, "the task to reach the simulator");

    expect(await client.task(uuid)).toEqual({ taskUUID: uuid, taskType: "imageInference", state: "sent", data: [], errors: [] });
    const waited = await client.task(uuid, { wait: true });
    expect(waited).toMatchObject({ taskUUID: uuid, state: "done", errors: [] });
    expect(waited!.data).toHaveLength(2);
    expect((await running).data.map((d) => d["imageUUID"])).toEqual(waited!.data.map((d) => d["imageUUID"]));

    expect(await client.task(randomUUID())).toBeUndefined();
    expect(await client.task(randomUUID(), { wait: true })).toBeUndefined();
  });

  it("client - status reports the upstream link and the limits", async () => {
    const rig = await startRig(cleanup, { flags: { "max-in-flight": "3" } });
    const status = await connect({ socket: rig.socketPath }).status();
    expect(status.upstream).toMatchObject({ state: "ready", sessionUUID: rig.sim.counters.auths[0]!.sessionUUID, reconnects: 0 });
    expect(status.limits.maxInFlight).toBe(3);
    expect(typeof status.version).toBe("string");
  });

  it("client - connect() without options finds the daemon through RUNWARE_SOCKET", async () => {
    const rig = await startRig(cleanup);
    vi.stubEnv("RUNWARE_SOCKET", rig.socketPath);
    const client = connect();
    expect(client.socketPath).toBe(rig.socketPath);
    expect((await client.status()).upstream.state).toBe("ready");
  });
});

describe("client - errors", () => {
  it("client - a socket path nobody listens on gives DaemonUnreachableError (daemonUnreachable)", async () => {
    const dir = tempDir(cleanup);
    const missing = join(dir, "nothing.sock");
    // A leftover file that is not a listening socket (a killed daemon's, say) is unreachable too.
    const stale = join(dir, "stale.sock");
    writeFileSync(stale, "");
    for (const socket of [missing, stale]) {
      const client = connect({ socket });
      for (const call of [() => client.status(), () => client.run([imageTask()]), () => client.task(randomUUID())]) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, socket).toBeInstanceOf(DaemonUnreachableError);
        expect(err).toMatchObject({ code: "daemonUnreachable", socketPath: socket });
        expect((err as Error).message).toContain(socket);
      }
    }
  });

  it("client - a batch larger than the daemon's whole queue (413 batchTooLarge) is split and run in halves, by run() and stream()", async () => {
    const rig = await startRig(cleanup, { flags: { "max-queued": "3" } });
    const client = connect({ socket: rig.socketPath });
    const tasks = Array.from({ length: 7 }, (_, i) => imageTask({ taskUUID: randomUUID(), positivePrompt: `split ${i}` }));
    const env = await client.run(tasks);
    expect(env.errors).toBeUndefined();
    expect(new Set(env.data.map((d) => d.taskUUID))).toEqual(new Set(tasks.map((t) => t["taskUUID"])));
    expect(env.data).toHaveLength(7);

    const again = Array.from({ length: 5 }, () => imageTask({ taskUUID: randomUUID() }));
    const frames: StreamFrame[] = [];
    for await (const f of client.stream(again)) frames.push(f);
    expect(frames.filter((f) => "done" in f)).toEqual([{ done: true, tasks: 5, completed: 5, failed: 0, inDoubt: 0, results: 5 }]);
    expect(frames.at(-1)).toHaveProperty("done", true);
    // The premise: sent whole, the daemon refuses it as one that can never fit.
    const whole = await postTasks(
      rig.socketPath,
      Array.from({ length: 7 }, () => imageTask()),
    );
    expect(whole.status).toBe(413);
    expect(whole.json?.["errors"]).toEqual([expect.objectContaining({ code: "batchTooLarge" })]);
  });

  it("client - a batch the daemon refuses gives RequestRefusedError with the status and Runware's error", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 300 } });
    const client = connect({ socket: rig.socketPath });
    const refused = async (p: Promise<unknown>) =>
      p.then(
        () => {
          throw new Error("expected a refusal");
        },
        (e: unknown) => e as RequestRefusedError,
      );

    const empty = await refused(client.run([]));
    expect(empty).toBeInstanceOf(RequestRefusedError);
    expect(empty).toMatchObject({
      status: 400,
      code: "invalidRequestBody",
      errors: [expect.objectContaining({ code: "invalidRequestBody" })],
    });

    // Streams are refused the same way, before the first frame.
    const withKey = await refused(client.stream([imageTask({ apiKey: "test-key" })]).next());
    expect(withKey).toMatchObject({ status: 400, code: "unsupportedParameter" });
    expect(withKey.message).not.toContain("test-key");

    // A taskUUID already in flight: 409 conflictTaskUUID, and nothing sent twice.
    const uuid = randomUUID();
    const first = client.run([imageTask({ taskUUID: uuid })]);
    await waitFor(() => rig.sim.counters.received[uuid] === 1, "the task to reach the simulator");
    const conflict = await refused(client.run([imageTask({ taskUUID: uuid })]));
    expect(conflict).toMatchObject({ status: 409, code: "conflictTaskUUID", errors: [expect.objectContaining({ taskUUID: uuid })] });
    expect((await first).data).toHaveLength(1);
    expect(rig.sim.counters.received[uuid]).toBe(1);
  });
});

describe("client - start-up weight", () => {
  const exec = promisify(execFile);
  /** Node resolve hook: any module resolved from node_modules makes the import fail, naming it. */
  const HOOKS = `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes("/node_modules/")) throw new Error("pulled in from node_modules: " + specifier);
  return r;
}`;
  const REGISTER = `import { register } from "node:module";
register(new URL("./hooks.mjs", import.meta.url));`;
  const IMPORT = `try { await import(process.argv[2]); console.log("loaded"); } catch (e) { console.log(e.message); }`;

  async function loadAlone(module: string): Promise<string> {
    const dir = tempDir(cleanup);
    writeFileSync(join(dir, "hooks.mjs"), HOOKS);
    writeFileSync(join(dir, "register.mjs"), REGISTER);
    writeFileSync(join(dir, "import.mjs"), IMPORT);
    const url = pathToFileURL(join(CLI_MAIN, "..", "..", module)).href;
    const { stdout } = await exec(
      process.execPath,
      ["--import", pathToFileURL(join(dir, "register.mjs")).href, join(dir, "import.mjs"), url],
      { timeout: 15_000 },
    );
    return stdout.trim();
  }

  it("client - loading the client, or a client verb of the CLI, pulls in no package from node_modules (no ws, zod or pino)", async () => {
    expect(await loadAlone("client/index.js")).toBe("loaded");
    // The CLI's client verbs share that promise (src/cli/main.ts loads each verb lazily).
    for (const verbs of ["cli/verbs.js", "cli/batch.js", "cli/status.js", "cli/lifecycle.js", "cli/history.js"])
      expect(await loadAlone(verbs), verbs).toBe("loaded");
    // The probe does see a package import: the daemon's config module needs zod.
    expect(await loadAlone("local/config.js")).toBe("pulled in from node_modules: zod");
  });
});

describe("client - keepAlive", () => {
  it("client - keepAlive reuses connections for many requests, and a script using it still exits by itself", async () => {
    const rig = await startRig(cleanup);
    const client = connect({ socket: rig.socketPath, keepAlive: true });
    const outs = [];
    for (let i = 0; i < 20; i++) outs.push(await client.run([imageTask()]));
    expect(outs.every((e) => e.data.length === 1 && e.errors === undefined)).toBe(true);
    const frames: StreamFrame[] = [];
    for await (const f of client.stream([imageTask({ numberResults: 2 })])) frames.push(f);
    expect(frames.at(-1)).toMatchObject({ done: true, completed: 1, results: 2 });
    expect((await client.status()).tasks.completed).toBeGreaterThanOrEqual(21);

    // Idle pooled sockets must not hold a finished script open.
    const dir = tempDir(cleanup, "rw-ka-");
    const script = join(dir, "one.mjs");
    const url = pathToFileURL(join(CLI_MAIN, "..", "..", "client/index.js")).href;
    writeFileSync(
      script,
      `import { connect } from ${JSON.stringify(url)};\nconst c = connect({ socket: ${JSON.stringify(rig.socketPath)}, keepAlive: true });\nconsole.log((await c.status()).upstream.state);\n`,
    );
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 15_000 });
    expect(stdout.trim()).toBe("ready");
    expect(Date.now() - started).toBeLessThan(4_000); // the daemon's 5 s keep-alive would show here
  });
});
