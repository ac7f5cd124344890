/**
 * `runware run TASKTYPE key=value key:=json ...` end to end: the real command as a child process,
 * a daemon on a Unix socket, the simulator upstream. Checked: Runware's JSON on stdout, the exit
 * code, and what reached Runware.
 */
import { afterEach, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cleanup } from "../helpers/cleanup.js";
import { pngSize, runCli, stdoutEnvelope } from "../helpers/cli.js";
import { startRig, submissions } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("cli - run", () => {
  it("run - any task from key=value and key:=json arguments; numbers, booleans and nested keys reach Runware as JSON", async () => {
    const rig = await startRig(cleanup);
    const r = await runCli(cleanup, [
      "run",
      "imageInference",
      "--socket",
      rig.socketPath,
      "model=runware:101@1",
      "positivePrompt=a fox = a dog",
      "width:=256",
      "height:=192",
      "numberResults:=2",
      "includeCost:=true",
      "seed:=7",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const env = stdoutEnvelope(r);
    expect(env.errors).toBeUndefined();
    expect(env.data.map((d) => d["seed"])).toEqual([7, 8]);
    for (const d of env.data) expect(d).toMatchObject({ taskType: "imageInference", cost: expect.any(Number) });
    const png = Buffer.from(await (await fetch(env.data[0]!["imageURL"] as string)).arrayBuffer());
    expect(pngSize(png)).toEqual({ width: 256, height: 192 });
  });

  it("run - a video from the command line: the daemon polls it and the answer holds its MP4", async () => {
    const rig = await startRig(cleanup, { sim: { timeScale: 0.002 } });
    const r = await runCli(cleanup, [
      "run",
      "videoInference",
      `--socket=${rig.socketPath}`,
      "model=klingai:5@3",
      "positivePrompt=waves on a beach",
      "duration:=5",
      "width:=1280",
      "height:=720",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const video = stdoutEnvelope(r).data[0]!;
    expect(video["videoURL"]).toMatch(/\.mp4$/);
    const mp4 = Buffer.from(await (await fetch(video["videoURL"] as string)).arrayBuffer());
    expect(mp4.toString("latin1", 4, 8)).toBe("ftyp");
  });

  it("run - --file gives the base task and the arguments change it, arrays by index", async () => {
    const rig = await startRig(cleanup);
    const base = join(rig.dir, "base.json");
    writeFileSync(base, JSON.stringify({ model: "runware:101@1", positivePrompt: "a lighthouse", width: 512, height: 512, seed: 1 }));
    const r = await runCli(cleanup, ["run", "imageInference", "--file", base, "--socket", rig.socketPath, "seed:=42", "width:=320"]);
    expect(r.code, r.stderr).toBe(0);
    const item = stdoutEnvelope(r).data[0]!;
    expect(item["seed"]).toBe(42);
    expect(pngSize(Buffer.from(await (await fetch(item["imageURL"] as string)).arrayBuffer()))?.width).toBe(320);
  });

  it("run - Runware's refusal exits 1 with its error in the JSON", async () => {
    const rig = await startRig(cleanup);
    const r = await runCli(cleanup, [
      "run",
      "imageInference",
      "--socket",
      rig.socketPath,
      "model=runware:101@1",
      "positivePrompt=a fox",
      "width:=100",
      "height:=512",
    ]);
    expect(r.code).toBe(1);
    expect(stdoutEnvelope(r).errors?.[0]).toMatchObject({ parameter: "width" });
  });

  it("run - a missing task type, a bad assignment, a --file of another type or taskType=... is a usage error (exit 2) and sends nothing", async () => {
    const rig = await startRig(cleanup);
    const other = join(rig.dir, "other.json");
    writeFileSync(other, JSON.stringify({ taskType: "videoInference" }));
    const cases: Array<[string[], RegExp]> = [
      [["run"], /task type first/],
      [["run", "model=x"], /task type first/],
      [["run", "imageInference", "numberResults:=two"], /not JSON/],
      [["run", "imageInference", "width"], /expected key=value/],
      [["run", "imageInference", "--file", other], /is a "videoInference" task, not imageInference/],
      [["run", "imageInference", "taskType=videoInference"], /taskType is the first argument/],
    ];
    for (const [args, stderr] of cases) {
      const r = await runCli(cleanup, [...args, "--socket", rig.socketPath]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(stderr);
      expect(r.stdout).toBe("");
    }
    expect(submissions(rig.sim)).toBe(0);
  });
});
