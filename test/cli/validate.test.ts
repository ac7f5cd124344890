/**
 * `--validate` on run, raw and batch (issue 14): every problem listed with its line or index, exit
 * 2, nothing sent, no state written; a clean file exits 0 without a daemon at all.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli } from "../helpers/cli.js";
import { startRig, submissions, tempDir } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("cli - --validate", () => {
  it("validate - batch lists every bad line by number (JSON, envelope, local files), exits 2, sends nothing and writes no state", async () => {
    const rig = await startRig(cleanup);
    const file = join(rig.dir, "mixed.jsonl");
    writeFileSync(
      file,
      [
        "a red fox in snow",
        "{not json",
        JSON.stringify(imageTask({ apiKey: "sk-secret" })),
        "# a comment",
        JSON.stringify(imageTask({ seedImage: "./missing.png" })),
        JSON.stringify({ taskType: "textInference", deliveryMethod: "stream" }),
        JSON.stringify(imageTask({ taskUUID: "not-a-uuid" })),
        JSON.stringify({ positivePrompt: "no type" }),
      ].join("\n"),
    );
    const r = await runCli(cleanup, ["batch", file, "--validate", "--socket", rig.socketPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:2: not valid JSON`);
    expect(r.stderr).toMatch(new RegExp(`${file}:3: .*apiKey`));
    expect(r.stderr).not.toContain("sk-secret");
    expect(r.stderr).toContain(`${file}:5: seedImage: no such file ${join(rig.dir, "missing.png")}`);
    expect(r.stderr).toMatch(new RegExp(`${file}:6: .*stream.*unsupportedDeliveryMethod`));
    expect(r.stderr).toMatch(new RegExp(`${file}:7: .*UUID v4`));
    expect(r.stderr).toMatch(new RegExp(`${file}:8: .*taskType`));
    expect(r.stderr).not.toMatch(new RegExp(`${file}:1:`));
    expect(r.stderr).toContain("6 problem(s); nothing sent");
    expect(submissions(rig.sim)).toBe(0);
    expect(existsSync(`${file}.runware-state`)).toBe(false);
  });

  it("validate - raw and run with good tasks exit 0 without any daemon; a repeated taskUUID and a bad run are exit 2", async () => {
    const dir = tempDir(cleanup);
    const socket = join(dir, "none", "daemon.sock");
    const uuid = "6f1c0000-0000-4000-8000-000000000000";
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify([imageTask(), imageTask({ taskUUID: uuid })]));
    const ok = await runCli(cleanup, ["raw", good, "--validate", "--socket", socket, "--no-autostart"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain("ok: 2 task(s), nothing sent");
    expect(ok.stdout).toBe("");
    const twice = join(dir, "twice.json");
    writeFileSync(twice, JSON.stringify([imageTask({ taskUUID: uuid }), imageTask({ taskUUID: uuid })]));
    const dup = await runCli(cleanup, ["raw", twice, "--validate", "--socket", socket, "--no-autostart"]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain(`task 1: taskUUID ${uuid} repeats task 0's`);
    const bad = await runCli(cleanup, ["run", "imageInference", "taskUUID=nope", "--validate", "--socket", socket, "--no-autostart"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/task: .*UUID v4/);
  });
});
