/**
 * `runware history` end to end (issue 16 part 2): the real command as a child process, a daemon on
 * a Unix socket, the simulator upstream. Checked: the pages it prints (newest first, filtered,
 * paged), one entry in full, its input run again with `runware run --file`, and the exit codes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { connect } from "../../src/client/index.js";
import type { HistoryEntry, HistoryPage } from "../../src/protocol/history.js";
import { Cleanup } from "../helpers/cleanup.js";
import { reapBackgroundDaemon, runCli, stdoutEnvelope, stdoutJson } from "../helpers/cli.js";
import { childEnv, CLI_MAIN, postTasks, startRig, TEST_KEY, tempDir, type DaemonRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Run one batch under `label`, to its end; the taskUUIDs of its results, in order. */
async function ran(rig: DaemonRig, tasks: unknown[], label: string): Promise<Array<Record<string, unknown>>> {
  const r = await postTasks(rig.socketPath, tasks, { "runware-label": label });
  expect(r.status, r.text).toBe(200);
  const data = (r.json as { data: Array<Record<string, unknown>> }).data;
  expect(data.length).toBeGreaterThan(0);
  return data;
}

/** Until the daemon's history holds `n` entries (a finish may be recorded just after its answer). */
async function historyHolds(rig: DaemonRig, n: number): Promise<void> {
  const client = connect({ socket: rig.socketPath });
  await waitFor(async () => (await client.history({ limit: 1000 })).entries.length >= n, `${n} history entries`);
}

const history = (r: Awaited<ReturnType<typeof runCli>>) => stdoutJson(r) as unknown as HistoryPage;

describe("cli - history", () => {
  it("history - lists finished tasks newest first, filtered by label and task type", async () => {
    const rig = await startRig(cleanup);
    const first = (await ran(rig, [imageTask({ seed: 1 })], "alpha"))[0]!;
    const second = (await ran(rig, [imageTask({ seed: 2, positivePrompt: "a fox" })], "beta"))[0]!;
    const third = (await ran(rig, [{ taskType: "promptEnhance", prompt: "a fox", promptMaxLength: 100, promptVersions: 1 }], "alpha"))[0]!;
    await historyHolds(rig, 3);

    const all = await runCli(cleanup, ["history", "--socket", rig.socketPath]);
    expect(all.code, all.stderr).toBe(0);
    const page = history(all);
    expect(page.entries.map((e) => e.taskUUID)).toEqual([third, second, first].map((d) => d["taskUUID"]));
    expect(page.nextCursor).toBeUndefined();
    expect(page.entries[1]).toMatchObject({
      taskType: "imageInference",
      label: "beta",
      state: "done",
      model: "runware:101@1",
      prompt: "a fox",
      seed: 2,
      outputs: [second["imageURL"]],
    });
    expect(typeof page.entries[1]!.durationMs).toBe("number");

    const alpha = history(await runCli(cleanup, ["history", "--socket", rig.socketPath, "--label", "alpha"]));
    expect(alpha.entries.map((e) => [e.label, e.taskType])).toEqual([
      ["alpha", "promptEnhance"],
      ["alpha", "imageInference"],
    ]);
    const images = history(await runCli(cleanup, ["history", "--socket", rig.socketPath, "--type", "imageInference", "--label", "alpha"]));
    expect(images.entries.map((e) => e.taskUUID)).toEqual([first["taskUUID"]]);
    const none = history(await runCli(cleanup, ["history", "--socket", rig.socketPath, "--label", "nobody"]));
    expect(none.entries).toEqual([]);
  });

  it("history - pages with --limit and --cursor, and --all follows every page to the end", async () => {
    const rig = await startRig(cleanup);
    const uuids: unknown[] = [];
    for (let i = 0; i < 5; i++) uuids.unshift((await ran(rig, [imageTask({ seed: i + 1 })], "pages"))[0]!["taskUUID"]);
    await historyHolds(rig, 5);
    const base = ["history", "--socket", rig.socketPath, "--limit", "2"];

    const p1 = history(await runCli(cleanup, base));
    expect(p1.entries.map((e) => e.taskUUID)).toEqual(uuids.slice(0, 2));
    expect(typeof p1.nextCursor).toBe("string");
    const p2 = history(await runCli(cleanup, [...base, "--cursor", p1.nextCursor!]));
    expect(p2.entries.map((e) => e.taskUUID)).toEqual(uuids.slice(2, 4));
    const p3 = history(await runCli(cleanup, [...base, "--cursor", p2.nextCursor!]));
    expect(p3.entries.map((e) => e.taskUUID)).toEqual(uuids.slice(4));
    expect(p3.nextCursor).toBeUndefined();

    const every = await runCli(cleanup, [...base, "--all"]);
    expect(every.code, every.stderr).toBe(0);
    expect(stdoutJson(every)).toEqual({ entries: [...p1.entries, ...p2.entries, ...p3.entries] });
  });

  it("history - --show prints the entry in full; --show --input run again with run --file gives the same seed and image", async () => {
    const rig = await startRig(cleanup);
    // No seed in the task: the one it ran with comes from its result.
    const original = (await ran(rig, [imageTask({ positivePrompt: "a lighthouse in fog", width: 256, height: 256 })], "show"))[0]!;
    await historyHolds(rig, 1);
    const uuid = String(original["taskUUID"]);

    const shown = await runCli(cleanup, ["history", "--socket", rig.socketPath, "--show", uuid]);
    expect(shown.code, shown.stderr).toBe(0);
    const entry = stdoutJson(shown) as unknown as HistoryEntry;
    expect(entry).toMatchObject({ taskUUID: uuid, taskType: "imageInference", label: "show", state: "done", seed: original["seed"] });
    expect(entry.input).toMatchObject({ taskType: "imageInference", positivePrompt: "a lighthouse in fog", width: 256 });
    expect(entry.data.map((d) => d["imageURL"])).toEqual([original["imageURL"]]);
    expect(entry.outputs).toEqual([original["imageURL"]]);

    const input = await runCli(cleanup, ["history", "--socket", rig.socketPath, "--show", uuid, "--input"]);
    expect(input.code, input.stderr).toBe(0);
    const task = stdoutJson(input);
    expect(task).toMatchObject({ taskType: "imageInference", positivePrompt: "a lighthouse in fog", seed: original["seed"] });
    expect(task["taskUUID"]).toBeUndefined();

    const file = join(tempDir(cleanup), "task.json");
    writeFileSync(file, input.stdout);
    const again = await runCli(cleanup, ["run", "imageInference", "--file", file, "--socket", rig.socketPath]);
    expect(again.code, again.stderr).toBe(0);
    const rerun = stdoutEnvelope(again).data[0]!;
    expect(rerun["taskUUID"]).not.toBe(uuid);
    expect(rerun["seed"]).toBe(original["seed"]);
    const bytes = async (url: unknown) => Buffer.from(await (await fetch(String(url))).arrayBuffer());
    expect((await bytes(rerun["imageURL"])).equals(await bytes(original["imageURL"]))).toBe(true);
  });

  it("history - --show of a UUID the daemon never ran exits 1 and says so on stderr", async () => {
    const rig = await startRig(cleanup);
    const uuid = randomUUID();
    for (const extra of [[], ["--input"]]) {
      const r = await runCli(cleanup, ["history", "--socket", rig.socketPath, "--show", uuid, ...extra]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`no task ${uuid}`);
      expect(r.stdout).toBe("");
    }
  });

  it("history - a bad --since (the daemon's refusal) or bad flags are usage errors (exit 2)", async () => {
    const rig = await startRig(cleanup);
    const cases: Array<[string[], RegExp]> = [
      [["--since", "yesterday"], /--since/],
      [["--until", "7 parsecs"], /--until/],
      [["--limit", "0"], /--limit must be a whole number from 1 to 1000/],
      [["--input"], /--input goes with --show/],
      [["--show", randomUUID(), "--label", "x"], /--show UUID takes none of --label/],
      [["extra"], /positional/i],
    ];
    for (const [args, stderr] of cases) {
      const r = await runCli(cleanup, ["history", "--socket", rig.socketPath, ...args]);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(stderr);
      expect(r.stdout).toBe("");
    }
  });

  it("history - no daemon: exit 3 and none is started, even with RUNWARE_API_KEY set", async () => {
    const socket = join(tempDir(cleanup), "run", "daemon.sock");
    reapBackgroundDaemon(cleanup, socket);
    const r = await runCli(cleanup, ["history", "--socket", socket], { env: { RUNWARE_API_KEY: TEST_KEY } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`no daemon on ${socket}`);
    expect(r.stdout).toBe("");
    expect(existsSync(join(socket, ".."))).toBe(false);
  });

  // A terminal needs a pty: util-linux `script` gives one (stdout and stderr both arrive on it).
  const hasScript = existsSync("/usr/bin/script");
  it.skipIf(!hasScript)("history - on a terminal: a table with the outputs below each row, and the next page's command", async () => {
    const rig = await startRig(cleanup);
    const older = (await ran(rig, [imageTask({ seed: 11, positivePrompt: "first fox" })], "tty"))[0]!;
    const newer = (await ran(rig, [imageTask({ seed: 12, positivePrompt: "second fox" })], "tty"))[0]!;
    await historyHolds(rig, 2);
    const cmd = `stty cols 160 rows 40; ${process.execPath} ${CLI_MAIN} history --socket ${rig.socketPath} --limit 1 --label tty`;
    const { stdout } = await promisify(execFile)("/usr/bin/script", ["-qec", cmd, "/dev/null"], { env: childEnv({}), timeout: 15_000 });
    const lines = stdout.replace(/\r/g, "").split("\n");
    expect(lines[0]).toMatch(/^TIME +LABEL +TYPE +MODEL +STATE +COST +DURATION +SEED +PROMPT$/);
    expect(lines[1]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +tty +imageInference +runware:101@1 +done +\S.* +\d+(?:ms|\.\ds) +12 +second fox$/,
    );
    expect(lines[2]).toBe(`  ${String(newer["imageURL"])}`);
    expect(stdout).not.toContain(String(older["imageURL"]));
    expect(lines[3]).toMatch(/^next page: runware history --label tty --limit 1 --cursor \S+$/);
  });
});
