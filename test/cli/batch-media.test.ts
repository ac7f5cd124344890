/**
 * `runware batch --out` with image, video and audio lines mixed (issue 14): every file of every
 * line is saved with its format's extension, and a batch interrupted with Ctrl-C resumes without
 * sending a finished line again.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli, startCli, stdoutLines } from "../helpers/cli.js";
import { startRig } from "../helpers/daemon.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface ResultLine {
  line: number;
  taskUUID: string;
  savedFiles?: string[];
  errors?: unknown[];
}

const LINES = [
  "a lighthouse on a cliff",
  JSON.stringify({ taskType: "videoInference", model: "klingai:5@3", positivePrompt: "waves", duration: 5, width: 1280, height: 720 }),
  "a red fox in snow",
  JSON.stringify({ taskType: "audioInference", model: "elevenlabs:1@1", positivePrompt: "rain", duration: 10, numberResults: 2 }),
  "a paper boat",
  JSON.stringify({
    taskType: "videoInference",
    model: "klingai:5@3",
    positivePrompt: "clouds",
    duration: 5,
    width: 1280,
    height: 720,
    outputFormat: "MOV",
  }),
];

describe("cli - batch with every modality", () => {
  it("batch - image, video and audio lines all saved; interrupted with Ctrl-C, the rerun sends no finished line again", async () => {
    // One task at a time, each slow enough that the interrupt lands mid-batch.
    const rig = await startRig(cleanup, { sim: { workMs: 120, timeScale: 0.004 }, flags: { "max-in-flight": "1" } });
    const file = join(rig.dir, "mixed.txt");
    writeFileSync(file, `${LINES.join("\n")}\n`);
    const out = join(rig.dir, "out");
    const args = ["batch", file, "--out", out, "--width", "128", "--height", "128", "--chunk", "1", "--socket", rig.socketPath];

    const first = startCli(cleanup, args);
    await waitFor(() => first.stdout().includes("\n"), "the first result line");
    first.child.kill("SIGINT");
    const r1 = await first.result;
    expect(r1.code).toBe(130);
    const r2 = await runCli(cleanup, args, { timeoutMs: 30_000 });
    expect(r2.code, r2.stderr).toBe(0);

    const all = [...stdoutLines<ResultLine>(r1.stdout), ...stdoutLines<ResultLine>(r2.stdout)];
    expect(new Set(all.map((x) => x.line))).toEqual(new Set(LINES.map((_, i) => i + 1)));
    expect(all.every((x) => x.errors === undefined && (x.savedFiles?.length ?? 0) === 1)).toBe(true);
    const files = readdirSync(out);
    const byExt = (ext: string) => files.filter((f) => f.endsWith(`.${ext}`)).length;
    // 3 images, 2 videos (one MOV), 2 audio clips from one line.
    expect({ png: byExt("png"), mp4: byExt("mp4"), mov: byExt("mov"), mp3: byExt("mp3"), total: files.length }).toEqual({
      png: 3,
      mp4: 1,
      mov: 1,
      mp3: 2,
      total: 7,
    });
    // Every line reached the simulator exactly once, across both runs.
    expect(Object.values(rig.sim.counters.received)).toEqual(LINES.map(() => 1));
  }, 40_000);
});
