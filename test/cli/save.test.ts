/**
 * `--out DIR` (issue 14): every output of every verb saved under its UUID with the extension of
 * its format, named in the printed JSON's `savedFiles`; downloads retried a bounded number of
 * times and written atomically. End to end through a real daemon and the simulator.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { pngSize, runCli, stdoutEnvelope } from "../helpers/cli.js";
import { startRig } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const isMp4 = (b: Buffer) => b.subarray(4, 8).toString("latin1") === "ftyp";
const saved = (item: Record<string, unknown> | undefined) => (item?.["savedFiles"] as string[] | undefined) ?? [];

describe("cli - every output saved", () => {
  it("save - run videoInference and video --out leave an MP4 (an ftyp box) named by its videoUUID, and exit 0", async () => {
    const rig = await startRig(cleanup, { sim: { timeScale: 0.002 } });
    const out = join(rig.dir, "out");
    const run = await runCli(cleanup, [
      "run",
      "videoInference",
      "model=klingai:5@3",
      "positivePrompt=waves",
      "duration:=5",
      "width:=1280",
      "height:=720",
      "--out",
      out,
      "--socket",
      rig.socketPath,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const item = stdoutEnvelope(run).data[0];
    expect(saved(item)).toEqual([join(out, `${item!["videoUUID"] as string}.mp4`)]);
    expect(isMp4(readFileSync(saved(item)[0]!))).toBe(true);
    expect(run.stderr).toContain(`saved ${saved(item)[0]!}`);

    const short = await runCli(cleanup, ["video", "--prompt", "a fox", "--out", out, "--socket", rig.socketPath]);
    expect(short.code, short.stderr).toBe(0);
    const file = saved(stdoutEnvelope(short).data[0])[0]!;
    expect(file).toMatch(/\.mp4$/);
    expect(isMp4(readFileSync(file))).toBe(true);
    // Written atomically: no temporary file is left beside them.
    expect(readdirSync(out).sort()).toEqual([file, saved(item)[0]!].map((p) => p.slice(out.length + 1)).sort());
  });

  it("save - base64 and data URI images, audio and several texts of one task are all saved with the right extensions", async () => {
    const rig = await startRig(cleanup, { sim: { timeScale: 0.002 } });
    const out = join(rig.dir, "out");
    const common = ["--out", out, "--socket", rig.socketPath];
    const b64 = await runCli(cleanup, [
      "text-to-image",
      "--prompt",
      "a fox",
      "--width",
      "128",
      "--height",
      "128",
      "--n",
      "2",
      "--output-type",
      "base64Data",
      ...common,
    ]);
    expect(b64.code, b64.stderr).toBe(0);
    for (const item of stdoutEnvelope(b64).data) {
      expect(saved(item)).toEqual([join(out, `${item["imageUUID"] as string}.png`)]);
      expect(pngSize(readFileSync(saved(item)[0]!))).toEqual({ width: 128, height: 128 });
    }
    const uri = await runCli(cleanup, [
      "run",
      "imageInference",
      "model=runware:101@1",
      "positivePrompt=owl",
      "width:=128",
      "height:=128",
      "outputType=dataURI",
      ...common,
    ]);
    expect(saved(stdoutEnvelope(uri).data[0])[0]).toMatch(/\.png$/);

    const audio = await runCli(cleanup, ["audio", "--prompt", "rain", "--format", "WAV", ...common]);
    expect(audio.code, audio.stderr).toBe(0);
    const wav = saved(stdoutEnvelope(audio).data[0])[0]!;
    expect(wav).toMatch(/\.wav$/);
    expect(readFileSync(wav).subarray(0, 4).toString("latin1")).toBe("RIFF");

    const text = await runCli(cleanup, [
      "run",
      "textInference",
      "model=openai:gpt@5-mini",
      'messages:=[{"role":"user","content":"Name a colour."}]',
      "numberResults:=2",
      ...common,
    ]);
    expect(text.code, text.stderr).toBe(0);
    const items = stdoutEnvelope(text).data;
    const uuid = items[0]!.taskUUID as string;
    // Two results of one task: the second name gets -2.
    expect(items.flatMap(saved)).toEqual([join(out, `${uuid}.txt`), join(out, `${uuid}-2.txt`)]);
    expect(items.map((i) => readFileSync(saved(i)[0]!, "utf8"))).toEqual(items.map((i) => i["text"]));
  });

  it("save - an output that cannot be downloaded is named in saveErrors, exit 1, and leaves no file", async () => {
    // The simulator forgets files after its retention time: with 0 every URL it answers is gone by the time it is fetched.
    const rig = await startRig(cleanup, { sim: { taskRetentionMs: 0 } });
    const out = join(rig.dir, "out");
    const r = await runCli(cleanup, [
      "text-to-image",
      "--prompt",
      "a fox",
      "--width",
      "128",
      "--height",
      "128",
      "--out",
      out,
      "--socket",
      rig.socketPath,
    ]);
    expect(r.code).toBe(1);
    const item = stdoutEnvelope(r).data[0];
    expect(item?.["saveErrors"]).toEqual([{ field: "imageURL", message: expect.stringContaining("HTTP 404") }]);
    expect(readdirSync(out)).toEqual([]);
  });
});
