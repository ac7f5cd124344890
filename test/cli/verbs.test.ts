/**
 * The everyday client verbs, end to end: the real `runware` command as a child process, a daemon on a
 * Unix socket, the simulator upstream. What is checked is what a user sees: Runware's JSON envelope
 * on stdout, human words on stderr, the exit code (README "Exit codes"), and the saved files.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../../src/client/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { pngSize, runCli, stdoutEnvelope } from "../helpers/cli.js";
import { startRig, submissions, tempDir, TEST_KEY, UUID_V4 } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";
import { WsTestClient } from "../helpers/ws-client.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

type Item = Record<string, unknown>;

describe("cli - text-to-image", () => {
  it("cli - text-to-image prints Runware's envelope with --n images and saves them as <imageUUID>.png of the asked size", async () => {
    const rig = await startRig(cleanup);
    const out = join(rig.dir, "images");
    const r = await runCli(cleanup, [
      "text-to-image",
      "--socket",
      rig.socketPath,
      "--prompt",
      "a red fox in snow",
      "--n",
      "3",
      "--width",
      "256",
      "--height",
      "192",
      "--out",
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const env = stdoutEnvelope(r);
    expect(env.errors).toBeUndefined();
    expect(env.data).toHaveLength(3);
    const taskUUID = env.data[0]!["taskUUID"];
    expect(taskUUID).toMatch(UUID_V4);
    for (const item of env.data) {
      expect(item).toMatchObject({ taskType: "imageInference", taskUUID });
      expect(item["imageUUID"]).toMatch(UUID_V4);
      expect(item["imageURL"]).toEqual(expect.stringContaining(rig.sim.httpUrl));
    }
    // One task, sent once.
    expect(rig.sim.counters.received).toEqual({ [taskUUID as string]: 1 });

    const names = env.data.map((d) => `${d["imageUUID"] as string}.png`);
    expect(readdirSync(out).sort()).toEqual([...names].sort());
    for (const name of names) {
      expect(pngSize(readFileSync(join(out, name))), name).toEqual({ width: 256, height: 192 });
      expect(r.stderr).toContain(`saved ${join(out, name)}`);
    }
  });

  it("cli - text-to-image --output-type base64Data prints the image data and saves the same bytes", async () => {
    const rig = await startRig(cleanup);
    const out = join(rig.dir, "b64");
    const r = await runCli(cleanup, [
      "text-to-image",
      "--socket",
      rig.socketPath,
      "--prompt",
      "a lighthouse",
      "--n",
      "2",
      "--width",
      "128",
      "--height",
      "320",
      "--output-type",
      "base64Data",
      "--out",
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const env = stdoutEnvelope(r);
    expect(env.data).toHaveLength(2);
    for (const item of env.data) {
      expect(item["imageURL"]).toBeUndefined();
      const bytes = readFileSync(join(out, `${item["imageUUID"] as string}.png`));
      expect(bytes.equals(Buffer.from(item["imageBase64Data"] as string, "base64"))).toBe(true);
      expect(pngSize(bytes)).toEqual({ width: 128, height: 320 });
    }
    expect(readdirSync(out)).toHaveLength(2);
  });

  it("cli - text-to-image --async prints the final images, which the daemon fetched with getResponse", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 50 } });
    const r = await runCli(cleanup, [
      "text-to-image",
      "--socket",
      rig.socketPath,
      "--prompt",
      "an async fox",
      "--n",
      "2",
      "--width",
      "128",
      "--height",
      "128",
      "--async",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const env = stdoutEnvelope(r);
    expect(env.errors).toBeUndefined();
    // Both images, and nothing else (not the acknowledgement).
    expect(env.data).toHaveLength(2);
    for (const item of env.data) expect(item["imageUUID"]).toMatch(UUID_V4);
    const uuid = env.data[0]!["taskUUID"] as string;
    expect(rig.sim.counters.received).toEqual({ [uuid]: 1 });
    expect(rig.sim.counters.getResponses[uuid]).toBeGreaterThanOrEqual(1);
  });

  it("cli - text-to-image with a size Runware refuses exits 1 with its error in the JSON and saves nothing", async () => {
    const rig = await startRig(cleanup);
    const out = join(rig.dir, "none");
    const r = await runCli(cleanup, ["text-to-image", "--socket", rig.socketPath, "--prompt", "a fox", "--width", "500", "--out", out]);
    expect(r.code).toBe(1);
    const env = stdoutEnvelope(r);
    expect(env.data).toEqual([]);
    expect(env.errors).toEqual([expect.objectContaining({ code: "invalidWidth", parameter: "width", taskType: "imageInference" })]);
    expect(existsSync(out)).toBe(false);
  });

  it("cli - text-to-image without --prompt is a usage error (exit 2) and sends nothing", async () => {
    const rig = await startRig(cleanup);
    const r = await runCli(cleanup, ["text-to-image", "--socket", rig.socketPath, "--n", "2"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/--prompt is required/);
    expect(submissions(rig.sim)).toBe(0);
  });
});

describe("cli - model-search", () => {
  it("cli - model-search prints results and totalResults, honouring --limit and --offset", async () => {
    const rig = await startRig(cleanup);
    const all = await runCli(cleanup, ["model-search", "--socket", rig.socketPath, "--search", "flux", "--limit", "100"]);
    expect(all.code, all.stderr).toBe(0);
    const whole = stdoutEnvelope(all).data[0]!;
    expect(whole["taskType"]).toBe("modelSearch");
    const results = whole["results"] as Item[];
    // The page below needs at least 3 matches to mean anything.
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect(whole["totalResults"]).toBe(results.length);
    for (const m of results) expect(JSON.stringify(m).toLowerCase()).toContain("flux");

    const page = await runCli(cleanup, ["model-search", "--socket", rig.socketPath, "--search", "flux", "--limit", "2", "--offset", "1"]);
    expect(page.code, page.stderr).toBe(0);
    const paged = stdoutEnvelope(page).data[0]!;
    expect(paged["totalResults"]).toBe(results.length);
    expect(paged["results"]).toEqual(results.slice(1, 3));
  });
});

describe("cli - raw", () => {
  it("cli - raw FILE runs a JSON array of tasks and prints one envelope for all of them", async () => {
    const rig = await startRig(cleanup);
    const img = randomUUID();
    const search = randomUUID();
    const file = join(rig.dir, "tasks.json");
    writeFileSync(
      file,
      JSON.stringify([imageTask({ taskUUID: img, numberResults: 2 }), { taskType: "modelSearch", taskUUID: search, search: "sdxl" }]),
    );
    const r = await runCli(cleanup, ["raw", file, "--socket", rig.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    const env = stdoutEnvelope(r);
    expect(env.errors).toBeUndefined();
    expect(env.data.filter((d) => d["taskUUID"] === img)).toHaveLength(2);
    expect(env.data.filter((d) => d["taskUUID"] === search)).toEqual([
      expect.objectContaining({ taskType: "modelSearch", results: expect.any(Array) }),
    ]);
    expect(rig.sim.counters.received).toEqual({ [img]: 1, [search]: 1 });
  });

  it("cli - raw - reads the tasks from stdin", async () => {
    const rig = await startRig(cleanup);
    const uuid = randomUUID();
    const r = await runCli(cleanup, ["raw", "-", "--socket", rig.socketPath], { stdin: JSON.stringify([imageTask({ taskUUID: uuid })]) });
    expect(r.code, r.stderr).toBe(0);
    expect(stdoutEnvelope(r).data).toEqual([expect.objectContaining({ taskUUID: uuid, imageUUID: expect.stringMatching(UUID_V4) })]);
  });

  it("cli - raw refuses a missing, non-JSON or non-array file with exit 2 and sends nothing", async () => {
    const rig = await startRig(cleanup);
    const notJson = join(rig.dir, "bad.json");
    writeFileSync(notJson, "[{ not json");
    const notArray = join(rig.dir, "object.json");
    writeFileSync(notArray, JSON.stringify(imageTask()));
    const cases: Array<[string, RegExp]> = [
      [join(rig.dir, "missing.json"), /cannot read .*ENOENT/],
      [notJson, /is not valid JSON/],
      [notArray, /must hold a JSON array/],
    ];
    for (const [file, message] of cases) {
      const r = await runCli(cleanup, ["raw", file, "--socket", rig.socketPath]);
      expect(r.code, file).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(message);
    }
    expect(submissions(rig.sim)).toBe(0);
  });

  it("cli - raw exits 1 when a task failed, printing both the results and the errors (partial success)", async () => {
    const rig = await startRig(cleanup);
    const good = randomUUID();
    const bad = randomUUID();
    const file = join(rig.dir, "mixed.json");
    writeFileSync(file, JSON.stringify([imageTask({ taskUUID: good }), imageTask({ taskUUID: bad, height: 100 })]));
    const r = await runCli(cleanup, ["raw", file, "--socket", rig.socketPath]);
    expect(r.code).toBe(1);
    const env = stdoutEnvelope(r);
    expect(env.data).toEqual([expect.objectContaining({ taskUUID: good })]);
    expect(env.errors).toEqual([expect.objectContaining({ taskUUID: bad, code: "invalidHeight" })]);
  });
});

describe("cli - poll", () => {
  it("cli - poll follows an async task until it is final and prints every result", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 800 } });
    const uuid = randomUUID();
    const client = connect({ socket: rig.socketPath });
    const submitted = client.run([imageTask({ taskUUID: uuid, numberResults: 3, deliveryMethod: "async" })]);
    await waitFor(async () => (await client.task(uuid))?.state === "sent", "the async task to be sent upstream");

    const r = await runCli(cleanup, ["poll", uuid, "--interval-ms", "20", "--socket", rig.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    const env = stdoutEnvelope(r);
    expect(env.errors).toBeUndefined();
    expect(env.data).toHaveLength(3);
    for (const item of env.data) expect(item).toMatchObject({ taskUUID: uuid, status: "success", imageURL: expect.any(String) });
    // The same images the submitter got, and the task ran once.
    const direct = await submitted;
    const uuids = (items: ReadonlyArray<Record<string, unknown>>) =>
      items.map((d) => String(d["imageUUID"])).sort((a, b) => a.localeCompare(b));
    expect(uuids(env.data)).toEqual(uuids(direct.data));
    expect(rig.sim.counters.received[uuid]).toBe(1);
  });

  it("cli - poll of an async task the daemon gave up on (in doubt) asks Runware again and prints its results", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 600 }, flags: { "async-timeout-ms": "100" } });
    const uuid = randomUUID();
    const first = await connect({ socket: rig.socketPath }).run([imageTask({ taskUUID: uuid, deliveryMethod: "async" })]);
    expect(first.errors?.[0]).toMatchObject({ code: "taskInDoubt", taskUUID: uuid });
    await waitFor(() => rig.sim.counters.outstanding === 0, "the simulator to finish the task");

    const r = await runCli(cleanup, ["poll", uuid, "--interval-ms", "20", "--socket", rig.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    const env = stdoutEnvelope(r);
    expect(env.errors).toBeUndefined();
    expect(env.data).toEqual([expect.objectContaining({ taskUUID: uuid, status: "success", imageURL: expect.any(String) })]);
    expect(rig.sim.counters.received[uuid]).toBe(1); // asked about again, never run again
  });

  it("cli - poll follows a task the daemon never saw (submitted over another connection) until it is final", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 600 } });
    // Another Runware client of the same account (another machine, or an earlier daemon).
    const other = cleanup.add(await WsTestClient.connect(rig.sim.url), (c) => c.close());
    await other.authenticate(TEST_KEY);
    const uuid = randomUUID();
    other.send([imageTask({ taskUUID: uuid, numberResults: 2, deliveryMethod: "async" })]);
    await waitFor(() => rig.sim.counters.received[uuid] === 1, "the task to reach the simulator");

    const r = await runCli(cleanup, ["poll", uuid, "--interval-ms", "20", "--socket", rig.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    const env = stdoutEnvelope(r);
    expect(env.errors).toBeUndefined();
    expect(env.data).toHaveLength(2);
    for (const item of env.data)
      expect(item).toMatchObject({ taskUUID: uuid, status: "success", imageUUID: expect.stringMatching(UUID_V4) });
  });

  it("cli - poll of an unknown taskUUID exits 1 with taskNotFound", async () => {
    const rig = await startRig(cleanup);
    const uuid = randomUUID();
    const r = await runCli(cleanup, ["poll", uuid, "--interval-ms", "20", "--socket", rig.socketPath]);
    expect(r.code).toBe(1);
    expect(stdoutEnvelope(r).errors).toEqual([expect.objectContaining({ code: "taskNotFound", taskUUID: uuid })]);
  });

  it("cli - poll without a UUID is a usage error (exit 2)", async () => {
    const dir = tempDir(cleanup);
    const r = await runCli(cleanup, ["poll", "--socket", join(dir, "daemon.sock")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/poll takes exactly one TASK_UUID/);
  });
});
