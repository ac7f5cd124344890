/**
 * Progress you can watch (src/cli/progress.ts): the pure renderers, the board's two modes, and the
 * real CLI with `--progress` off a terminal (a video's lines grow with Runware's `progress`; a
 * batch shows done / failed / running and an ETA); without it nothing extra reaches stderr.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bar, Board, boardMode, renderBatchLine, renderTaskLine } from "../../src/cli/progress.js";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli } from "../helpers/cli.js";
import { startRig } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(async () => {
  vi.useRealTimers();
  await cleanup.run();
});

describe("cli - progress lines", () => {
  it("progress - a task line shows its type, a bar of Runware's progress, the percentage and elapsed time", () => {
    expect(bar(50, 10)).toBe("[#####.....]");
    expect(bar(undefined, 4)).toBe("[    ]");
    const line = { taskType: "videoInference", startedAt: 0, results: 0, state: "running" as const, progress: 42 };
    expect(renderTaskLine(line, 12_000)).toBe(`videoInference     ${bar(42)}  42% 12s`);
    expect(renderTaskLine({ ...line, progress: undefined }, 1000)).toContain("  … 1s");
    expect(renderTaskLine({ ...line, state: "done", endedAt: 30_000, expected: 2, results: 2 }, 99_000)).toBe(
      "videoInference     done 2/2 30s",
    );
  });

  it("progress - the batch line counts done, failed and running and estimates the time left from the rate so far", () => {
    expect(renderBatchLine({ total: 40, done: 9, failed: 1, running: 4, skipped: 2 }, 4000)).toBe(
      "[batch] 10/40 done, 1 failed, 4 running, 2 skipped, 2.5/s ETA 12s",
    );
    expect(renderBatchLine({ total: 5, done: 0, failed: 0, running: 5, skipped: 0 }, 0)).toBe(
      "[batch] 0/5 done, 0 failed, 5 running, 0.0/s",
    );
  });

  it("progress - on a terminal the block is redrawn in place every second until closed; off one only with --progress, each change once", () => {
    vi.useFakeTimers();
    const writes: string[] = [];
    let n = 0;
    const tty = new Board(
      { isTTY: true, write: (t: string) => writes.push(t) },
      "tty",
      () => [["a", `line ${n++}`]],
      () => 0,
      1000,
    );
    tty.draw();
    vi.advanceTimersByTime(2000);
    expect(writes).toEqual(["\r\x1b[2Kline 0\n", "\x1b[1A\r\x1b[2Kline 1\n", "\x1b[1A\r\x1b[2Kline 2\n"]);
    tty.close();
    vi.advanceTimersByTime(5000);
    expect(writes).toHaveLength(4);
    expect(vi.getTimerCount()).toBe(0);

    expect(boardMode({ isTTY: false, write: () => true }, false)).toBe("off");
    expect(boardMode({ isTTY: false, write: () => true }, true)).toBe("lines");
    const plain: string[] = [];
    let text = "x 0%";
    const lines = new Board({ write: (t: string) => plain.push(t) }, "lines", () => [["a", text]]);
    lines.draw();
    lines.draw();
    text = "x 50%";
    lines.draw();
    lines.close();
    expect(plain).toEqual(["x 0%\n", "x 50%\n"]);
  });

  it("progress - runware video --progress off a terminal prints the video's line as its progress grows; without it stderr stays quiet", async () => {
    // A render of ~1.2 s, polled at the test engine's short intervals.
    const rig = await startRig(cleanup, { sim: { timeScale: 0.01 } });
    const args = ["video", "--prompt", "waves", "--socket", rig.socketPath];
    const watched = await runCli(cleanup, [...args, "--progress"]);
    expect(watched.code, watched.stderr).toBe(0);
    const lines = watched.stderr.trim().split("\n");
    const pcts = lines.flatMap((l) => /^videoInference +\[[#.]+\] +(\d+)%/.exec(l)?.[1] ?? []).map(Number);
    expect(pcts.length).toBeGreaterThanOrEqual(2);
    expect([...pcts].sort((a, b) => a - b)).toEqual(pcts);
    expect(lines.at(-1)).toMatch(/^videoInference +done \d+s$/);

    const quiet = await runCli(cleanup, args);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
  });

  it("progress - runware batch --progress shows running counts and ends with every line done", async () => {
    const rig = await startRig(cleanup, { flags: { "max-in-flight": "2" } });
    const file = join(rig.dir, "prompts.txt");
    writeFileSync(file, "a fox\nan owl\na boat\na kite\n");
    const r = await runCli(cleanup, [
      "batch",
      file,
      "--width",
      "128",
      "--height",
      "128",
      "--chunk",
      "2",
      "--progress",
      "--socket",
      rig.socketPath,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const counts = r.stderr.split("\n").filter((l) => l.startsWith("[batch]"));
    expect(counts[0]).toMatch(/^\[batch\] 0\/4 done, 0 failed, 0 running/);
    expect(counts.some((l) => /, 2 running/.test(l))).toBe(true);
    expect(counts.at(-1)).toMatch(/^\[batch\] 4\/4 done, 0 failed, 0 running, [\d.]+\/s ETA 0s$/);
  });
});
