/**
 * `runware video` and `runware audio` end to end: the real command, a daemon, the simulator (which
 * knows the default models). What a user sees: Runware's JSON with the file's URL, exit 0, the task
 * as the help says it is sent.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli, stdoutEnvelope } from "../helpers/cli.js";
import { startRig, submissions } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function fetchBytes(url: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(url)).arrayBuffer());
}

describe("cli - video and audio shortcuts", () => {
  it("video - a prompt with the documented defaults gives an MP4 (an ftyp box) and exits 0", async () => {
    const rig = await startRig(cleanup, { sim: { timeScale: 0.002 } });
    const r = await runCli(cleanup, ["video", "--socket", rig.socketPath, "--prompt", "waves on a beach", "--n", "2", "--seed", "9"]);
    expect(r.code, r.stderr).toBe(0);
    const env = stdoutEnvelope(r);
    expect(env.data).toHaveLength(2);
    expect(env.data.map((d) => d["seed"])).toEqual([9, 10]);
    const mp4 = await fetchBytes(env.data[0]!["videoURL"] as string);
    expect(mp4.toString("latin1", 4, 8)).toBe("ftyp");
    const help = await runCli(cleanup, ["video", "--help"]);
    expect(help.stdout).toContain("default klingai:5@3");
    expect(help.stdout).toContain("seconds (default 5)");
  });

  it("audio - a prompt gives an audio file in the asked format (WAV) and exits 0", async () => {
    const rig = await startRig(cleanup, { sim: { timeScale: 0.002 } });
    const r = await runCli(cleanup, [
      "audio",
      "--socket",
      rig.socketPath,
      "--prompt",
      "rain on a tin roof",
      "--format",
      "wav",
      "--include-cost",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const item = stdoutEnvelope(r).data[0]!;
    expect(item).toMatchObject({ taskType: "audioInference", audioURL: expect.stringMatching(/\.wav$/), cost: expect.any(Number) });
    expect((await fetchBytes(item["audioURL"] as string)).toString("latin1", 0, 4)).toBe("RIFF");
  });

  it("video and audio - without --prompt, or with a bad --duration, exit 2 and send nothing", async () => {
    const rig = await startRig(cleanup);
    for (const args of [["video"], ["audio"], ["video", "--prompt", "x y", "--duration", "long"]]) {
      const r = await runCli(cleanup, [...args, "--socket", rig.socketPath]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
    }
    expect(submissions(rig.sim)).toBe(0);
  });
});
