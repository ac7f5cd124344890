/**
 * `runware batch FILE` end to end (README: one prompt or JSON task per line, one JSON line per result,
 * `--out`, a state file, resumable without running any line twice). The resume test interrupts a real
 * CLI process and counts, in the simulator, how often each taskUUID reached "Runware".
 */
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cleanup } from "../helpers/cleanup.js";
import { pngSize, runCli, startCli, stdoutLines } from "../helpers/cli.js";
import { connect } from "../../src/client/index.js";
import { SimServer } from "../../src/sim/index.js";
import { spawnDaemon, startRig, tempDir, UUID_V4 } from "../helpers/daemon.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface ResultLine {
  line: number;
  taskUUID: string;
  prompt?: string;
  imageUUID?: string;
  savedFiles?: string[];
  errors?: Array<Record<string, unknown>>;
}
interface StateRecord {
  line: number;
  taskUUID: string;
  status: "submitted" | "done" | "failed";
}

const PROMPTS = [
  "a lighthouse on a cliff",
  "a red fox in snow",
  "a bowl of ramen",
  "a paper boat",
  "an astronaut gardening",
  "a steam train",
];

function readState(path: string): StateRecord[] {
  return stdoutLines<StateRecord>(readFileSync(path, "utf8"));
}

/** The last state record per line, as a rerun reads it. */
function lastStatus(records: StateRecord[]): Map<number, StateRecord> {
  return new Map(records.map((r) => [r.line, r]));
}

describe("cli - batch", () => {
  it("cli - batch with a --chunk larger than the daemon's whole queue still runs every line (the chunk is split, not refused)", async () => {
    const rig = await startRig(cleanup, { flags: { "max-queued": "2" } });
    const file = join(rig.dir, "prompts.txt");
    writeFileSync(file, `${PROMPTS.join("\n")}\n`);
    const r = await runCli(cleanup, ["batch", file, "--chunk", "6", "--width", "128", "--height", "128", "--socket", rig.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    const results = stdoutLines<ResultLine>(r.stdout);
    expect(results.map((x) => x.line).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results.every((x) => x.errors === undefined && typeof x.imageUUID === "string")).toBe(true);
    expect(r.stderr).toMatch(/6 done, 0 failed/);
  });

  it("cli - batch runs prompt and JSON-task lines, prints one JSON line per result, saves images and records state", async () => {
    const rig = await startRig(cleanup);
    const file = join(rig.dir, "prompts.txt");
    const jsonTask = {
      taskType: "imageInference",
      model: "runware:101@1",
      positivePrompt: "a json task",
      width: 128,
      height: 128,
      numberResults: 2,
    };
    // Line numbers: 1 comment, 2-3 prompts, 4 blank, 5 prompt, 6 JSON task, 7-9 prompts.
    const text = [
      "# test prompts",
      PROMPTS[0],
      PROMPTS[1],
      "",
      PROMPTS[2],
      JSON.stringify(jsonTask),
      PROMPTS[3],
      PROMPTS[4],
      PROMPTS[5],
    ].join("\n");
    writeFileSync(file, `${text}\n`);
    const promptLines = new Map([
      [2, PROMPTS[0]],
      [3, PROMPTS[1]],
      [5, PROMPTS[2]],
      [7, PROMPTS[3]],
      [8, PROMPTS[4]],
      [9, PROMPTS[5]],
    ]);
    const out = join(rig.dir, "images");

    const r = await runCli(cleanup, ["batch", file, "--out", out, "--width", "256", "--height", "192", "--socket", rig.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("7 done, 0 failed");
    const results = stdoutLines<ResultLine>(r.stdout);
    // Six prompts with one image each, the JSON task with two.
    expect(results).toHaveLength(8);
    expect(results.map((x) => x.line).sort((a, b) => a - b)).toEqual([2, 3, 5, 6, 6, 7, 8, 9]);
    for (const res of results) {
      expect(res.taskUUID).toMatch(UUID_V4);
      expect(res.errors).toBeUndefined();
      expect(res.prompt).toBe(promptLines.get(res.line));
      expect(res.savedFiles).toEqual([join(out, `${res.imageUUID!}.png`)]);
      const size = pngSize(readFileSync(res.savedFiles![0]!));
      expect(size, `line ${res.line}`).toEqual(res.line === 6 ? { width: 128, height: 128 } : { width: 256, height: 192 });
    }
    expect(readdirSync(out)).toHaveLength(8);

    // One task per line, each sent once.
    const uuidByLine = new Map(results.map((x) => [x.line, x.taskUUID]));
    expect(uuidByLine.size).toBe(7);
    expect(rig.sim.counters.received).toEqual(Object.fromEntries([...uuidByLine.values()].map((u) => [u, 1])));

    // The state file beside the prompts: every line submitted, then done, under one UUID.
    const state = readState(`${file}.runware-state`);
    for (const [line, uuid] of uuidByLine) {
      expect(state.filter((s) => s.line === line)).toEqual([
        { line, taskUUID: uuid, status: "submitted" },
        { line, taskUUID: uuid, status: "done" },
      ]);
    }
    expect(state).toHaveLength(14);
  });

  it("cli - batch exits 1 and reports the line Runware refused, with its errors, while the others finish", async () => {
    const rig = await startRig(cleanup);
    const file = join(rig.dir, "mixed.txt");
    const bad = { taskType: "imageInference", model: "runware:101@1", positivePrompt: "too wide", width: 500, height: 512 };
    writeFileSync(file, [PROMPTS[0], JSON.stringify(bad), PROMPTS[1]].join("\n"));
    const state = join(rig.dir, "progress.state");

    const r = await runCli(cleanup, ["batch", file, "--state", state, "--width", "128", "--height", "128", "--socket", rig.socketPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("2 done, 1 failed");
    const results = stdoutLines<ResultLine>(r.stdout);
    const failed = results.filter((x) => x.errors);
    expect(failed).toEqual([
      {
        line: 2,
        taskUUID: expect.stringMatching(UUID_V4),
        errors: [expect.objectContaining({ code: "invalidWidth", parameter: "width" })],
      },
    ]);
    expect(
      results
        .filter((x) => !x.errors)
        .map((x) => x.line)
        .sort((a, b) => a - b),
    ).toEqual([1, 3]);
    // --state is honoured, and the failure is recorded.
    expect(existsSync(`${file}.runware-state`)).toBe(false);
    expect(lastStatus(readState(state)).get(2)).toEqual({ line: 2, taskUUID: failed[0]!.taskUUID, status: "failed" });
  });

  it("cli - batch interrupted with Ctrl-C resumes: finished lines are skipped and no line is sent twice", async () => {
    // One task at a time, each slow enough that the interrupt lands mid-batch.
    const rig = await startRig(cleanup, { sim: { workMs: 150 }, flags: { "max-in-flight": "1" } });
    const file = join(rig.dir, "prompts.txt");
    writeFileSync(file, `${PROMPTS.join("\n")}\n`);
    const out = join(rig.dir, "images");
    const args = ["batch", file, "--out", out, "--width", "128", "--height", "128", "--socket", rig.socketPath];

    const first = startCli(cleanup, args);
    await waitFor(() => first.stdout().includes("\n"), "the first result line");
    first.child.kill("SIGINT");
    const r1 = await first.result;
    expect(r1.code).toBe(130);
    expect(r1.stderr).toMatch(/interrupted; .*Run the same command again to resume/);
    const run1 = stdoutLines<ResultLine>(r1.stdout);
    expect(run1.length).toBeGreaterThanOrEqual(1);
    expect(run1.length).toBeLessThan(PROMPTS.length);
    const doneBefore = [...lastStatus(readState(`${file}.runware-state`)).values()].filter((s) => s.status === "done").map((s) => s.line);
    expect(doneBefore.length).toBeGreaterThanOrEqual(1);

    const r2 = await runCli(cleanup, args);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toContain(`, ${doneBefore.length} already done earlier`);
    const run2 = stdoutLines<ResultLine>(r2.stdout);
    // Finished lines are not printed again; together the two runs have every line's result.
    for (const res of run2) expect(doneBefore).not.toContain(res.line);
    const all = [...run1, ...run2];
    expect(new Set(all.map((x) => x.line))).toEqual(new Set(PROMPTS.map((_, i) => i + 1)));
    expect(all.every((x) => x.errors === undefined && x.savedFiles !== undefined)).toBe(true);

    // Each line kept its taskUUID across the runs, and "Runware" received each exactly once: the
    // unfinished lines were looked up in the daemon, not resubmitted.
    const uuids = new Map<number, Set<string>>();
    for (const res of all) uuids.set(res.line, (uuids.get(res.line) ?? new Set()).add(res.taskUUID));
    expect([...uuids.values()].every((s) => s.size === 1)).toBe(true);
    const expected = Object.fromEntries([...uuids.values()].map((s) => [[...s][0]!, 1]));
    expect(rig.sim.counters.received).toEqual(expected);
    expect(readdirSync(out)).toHaveLength(PROMPTS.length);
    expect([...lastStatus(readState(`${file}.runware-state`)).values()].every((s) => s.status === "done")).toBe(true);
  });

  it("cli - batch resumes after the daemon itself was killed: a line Runware already ran is fetched, not run again", async () => {
    const dir = tempDir(cleanup);
    const sim = cleanup.add(await SimServer.start({ workMs: 300 }), (s) => s.close());
    const socketPath = join(dir, "run", "daemon.sock");
    const flags = { "max-in-flight": "1" };
    const first = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags });
    await first.waitForLine("listening on");
    const file = join(dir, "prompts.txt");
    writeFileSync(file, `${PROMPTS.join("\n")}\n`);
    const args = ["batch", file, "--width", "128", "--height", "128", "--socket", socketPath];

    const run1 = startCli(cleanup, args);
    await waitFor(() => run1.stdout().includes("\n"), "the first result line");
    // The daemon dies while a line's task runs at "Runware"; that task finishes there regardless.
    const client = connect({ socket: socketPath });
    const submitted = () => readState(`${file}.runware-state`).map((s) => s.taskUUID);
    const orphan = await waitFor(async () => {
      for (const uuid of submitted()) if ((await client.task(uuid))?.state === "sent") return uuid;
      return undefined;
    }, "a line's task running upstream");
    first.child.kill("SIGKILL");
    await first.exited;
    const r1 = await run1.result;
    expect(r1.code).not.toBe(0);
    await waitFor(() => sim.counters.outstanding === 0, "the orphaned task to finish upstream");

    // A new daemon knows nothing of the old one's tasks.
    const second = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags });
    await second.waitForLine("listening on");
    const r2 = await runCli(cleanup, args);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    const all = [...stdoutLines<ResultLine>(r1.stdout), ...stdoutLines<ResultLine>(r2.stdout)];
    expect(all.filter((x) => x.errors)).toEqual([]);
    expect(new Set(all.map((x) => x.line))).toEqual(new Set(PROMPTS.map((_, i) => i + 1)));
    // No line under a second UUID; the orphaned task has its image, and was not run twice (a resend
    // under its UUID can only meet conflictTaskUUID).
    expect(Object.keys(sim.counters.received)).toHaveLength(PROMPTS.length);
    expect(all.find((x) => x.taskUUID === orphan)?.imageUUID).toMatch(UUID_V4);
    expect(sim.counters.received[orphan]).toBeLessThanOrEqual(2);
  });

  it("cli - batch waits for every image of an async JSON-task line, not just its acknowledgement", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 100 } });
    const file = join(rig.dir, "async.txt");
    const task = {
      taskType: "imageInference",
      model: "runware:101@1",
      positivePrompt: "an async fox",
      width: 128,
      height: 128,
      numberResults: 2,
      deliveryMethod: "async",
    };
    writeFileSync(file, `${JSON.stringify(task)}\n`);
    const out = join(rig.dir, "images");

    const r = await runCli(cleanup, ["batch", file, "--out", out, "--socket", rig.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    const results = stdoutLines<ResultLine>(r.stdout);
    expect(results).toHaveLength(2);
    for (const res of results) {
      expect(res).toMatchObject({ line: 1, imageUUID: expect.stringMatching(UUID_V4) });
      expect(pngSize(readFileSync(res.savedFiles![0]!))).toEqual({ width: 128, height: 128 });
    }
    expect(readdirSync(out)).toHaveLength(2);
  });

  it("cli - batch waits for every item of a task whose count is not numberResults (promptEnhance promptVersions)", async () => {
    const rig = await startRig(cleanup);
    const file = join(rig.dir, "enhance.txt");
    writeFileSync(
      file,
      `${JSON.stringify({ taskType: "promptEnhance", prompt: "a fox in snow", promptVersions: 3, promptMaxLength: 100 })}\n`,
    );
    const r = await runCli(cleanup, ["batch", file, "--socket", rig.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    const results = stdoutLines<{ line: number; text?: string }>(r.stdout);
    expect(results).toHaveLength(3);
    expect(results.every((x) => x.line === 1 && typeof x.text === "string")).toBe(true);
  });

  it("cli - batch refuses a line that is broken JSON with exit 2 before sending anything", async () => {
    const rig = await startRig(cleanup);
    const file = join(rig.dir, "broken.txt");
    writeFileSync(file, `${PROMPTS[0]}\n{"taskType": "imageInference",\n`);
    const r = await runCli(cleanup, ["batch", file, "--socket", rig.socketPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:2: not valid JSON`);
    expect(rig.sim.counters.received).toEqual({});
  });
});
