/**
 * The `runware history` table (src/cli/history-table.ts) and the re-run input
 * (src/cli/history-input.ts), pure: entries and a width in, the exact text out. Times are local,
 * so the tests run in UTC.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rerunInput } from "../../src/cli/history-input.js";
import { formatCost, formatDuration, historyTable } from "../../src/cli/history-table.js";
import type { HistorySummary } from "../../src/protocol/history.js";

const savedTz = process.env["TZ"];
beforeAll(() => {
  process.env["TZ"] = "UTC";
});
afterAll(() => {
  if (savedTz === undefined) delete process.env["TZ"];
  else process.env["TZ"] = savedTz;
});

function entry(extra: Partial<HistorySummary> = {}): HistorySummary {
  return {
    id: 2,
    taskUUID: "6f1c0e6a-0000-4000-8000-000000000002",
    taskType: "imageInference",
    label: "runware run",
    state: "done",
    model: "runware:101@1",
    prompt: "a red fox in snow",
    seed: 42,
    outputs: ["https://im.runware.ai/image/a.png"],
    cost: 0.0013,
    acceptedAt: "2025-06-01T12:34:55.000Z",
    finishedAt: "2025-06-01T12:34:56.789Z",
    durationMs: 1234,
    errors: [],
    ...extra,
  };
}

describe("history - table", () => {
  it("history table - a header and one row per task, columns aligned, the outputs indented below", () => {
    const video = entry({
      id: 1,
      taskType: "videoInference",
      label: "nightly.mjs",
      model: "klingai:5@3",
      prompt: "waves",
      seed: 7,
      outputs: ["https://vid.runware.ai/v/1.mp4", "https://vid.runware.ai/v/2.mp4"],
      cost: 0.5,
      finishedAt: "2025-05-31T23:01:02.000Z",
      durationMs: 184_000,
    });
    expect(historyTable([entry(), video], 200).split("\n")).toEqual([
      "TIME                 LABEL        TYPE            MODEL          STATE  COST     DURATION  SEED  PROMPT",
      "2025-06-01 12:34:56  runware run  imageInference  runware:101@1  done   $0.0013  1.2s      42    a red fox in snow",
      "  https://im.runware.ai/image/a.png",
      "2025-05-31 23:01:02  nightly.mjs  videoInference  klingai:5@3    done   $0.5000  3m04s     7     waves",
      "  https://vid.runware.ai/v/1.mp4",
      "  https://vid.runware.ai/v/2.mp4",
      "",
    ]);
  });

  it("history table - the prompt is cut with … to the width; output URLs are never cut", () => {
    const url = `https://im.runware.ai/image/${"x".repeat(80)}.png`;
    const lines = historyTable([entry({ prompt: "a very long prompt about a fox in the snow at dawn", outputs: [url] })], 120).split("\n");
    const promptAt = lines[0]!.indexOf("PROMPT");
    // 19 + 11 + 14 + 13 + 5 + 7 + 8 + 4 characters of columns and 8 gaps of 2 before it: 23 left of 120.
    expect(promptAt).toBe(97);
    expect(lines[1]!.slice(promptAt)).toBe("a very long prompt abo…");
    expect(lines[1]!.length).toBe(120); // ASCII but the one … (one UTF-16 unit)
    // A cut that lands after a space leaves no space before the …
    const atSpace = historyTable([entry({ prompt: "abcdefghij abcdefghij more words" })], 120).split("\n")[1]!;
    expect(atSpace.slice(promptAt)).toBe("abcdefghij abcdefghij…");
    expect(lines[2]).toBe(`  ${url}`);
    // Narrower than the fixed columns: the prompt still keeps 12 characters.
    const narrow = historyTable([entry({ prompt: "a very long prompt about a fox" })], 40).split("\n")[1]!;
    expect(narrow.endsWith("a very long…")).toBe(true);
  });

  it("history table - wide columns (a 64-character label) are cut to 24; newlines and escapes in a prompt become spaces", () => {
    const lines = historyTable([entry({ label: "l".repeat(64), prompt: "line one\nline two\u001b[31m red" })], 300).split("\n");
    expect(lines[1]).toContain(`  ${"l".repeat(23)}…  imageInference`);
    expect(lines[1]!.endsWith("line one line two [31m red")).toBe(true);
    expect(lines.join("\n")).not.toContain("\u001b");
  });

  it("history table - a failed task shows its first error instead of outputs; missing model, seed and prompt read '-' or nothing", () => {
    const failed = entry({
      state: "failed",
      model: undefined,
      seed: undefined,
      prompt: undefined,
      outputs: [],
      cost: undefined,
      uncosted: "failed",
      durationMs: 80,
      errors: [
        { code: "invalidWidth", message: "width must be a multiple of 64" },
        { code: "other", message: "second" },
      ],
    });
    expect(historyTable([failed], 200).split("\n").slice(1)).toEqual([
      "2025-06-01 12:34:56  runware run  imageInference  -      failed  - (failed)  80ms      -",
      "  error invalidWidth: width must be a multiple of 64 (+1 more)",
      "",
    ]);
  });

  it("history table - no entries: one line saying so", () => {
    expect(historyTable([], 80)).toBe("no finished tasks match\n");
  });
});

describe("history - cost and duration", () => {
  it("history cost - USD to 4 decimals; none: '-' and why when the task type reports a cost", () => {
    expect(formatCost({ cost: 0.0013 })).toBe("$0.0013");
    expect(formatCost({ cost: 12.5 })).toBe("$12.5000");
    expect(formatCost({ cost: 0 })).toBe("$0.0000");
    expect(formatCost({ cost: 0.00001 })).toBe("<$0.0001");
    expect(formatCost({ uncosted: "webhook" })).toBe("- (webhook)");
    expect(formatCost({ uncosted: "in-doubt" })).toBe("- (in-doubt)");
    expect(formatCost({ uncosted: "unreported" })).toBe("- (unreported)");
    expect(formatCost({})).toBe("-");
  });

  it("history duration - ms under a second, seconds with a decimal under a minute, then m/ss, then h/mm", () => {
    expect(formatDuration(0)).toBe("0ms");
    expect(formatDuration(26.4)).toBe("26ms");
    expect(formatDuration(999.4)).toBe("999ms");
    expect(formatDuration(999.6)).toBe("1.0s");
    expect(formatDuration(1234)).toBe("1.2s");
    expect(formatDuration(59_940)).toBe("59.9s");
    expect(formatDuration(59_960)).toBe("1m00s");
    expect(formatDuration(184_000)).toBe("3m04s");
    expect(formatDuration(3_599_400)).toBe("59m59s");
    expect(formatDuration(3_599_600)).toBe("1h00m");
    expect(formatDuration(7_500_000)).toBe("2h05m");
    expect(formatDuration(-1)).toBe("-");
    expect(formatDuration(Number.NaN)).toBe("-");
  });
});

describe("history - re-run input", () => {
  it("history input - the task as sent without its taskUUID or an async delivery, with the seed it ran with", () => {
    const input = { taskType: "videoInference", taskUUID: "u-1", model: "klingai:5@3", deliveryMethod: "async", includeCost: true };
    expect(rerunInput({ input, seed: 99 })).toEqual({ taskType: "videoInference", model: "klingai:5@3", includeCost: true, seed: 99 });
    expect(input).toMatchObject({ taskUUID: "u-1", deliveryMethod: "async" }); // the entry is not changed
    // A seed the task named stays, and so does a sync delivery.
    expect(rerunInput({ input: { taskType: "imageInference", seed: 5, deliveryMethod: "sync" }, seed: 6 })).toEqual({
      taskType: "imageInference",
      seed: 5,
      deliveryMethod: "sync",
    });
    expect(rerunInput({ input: { taskType: "imageUpload", image: "x" } })).toEqual({ taskType: "imageUpload", image: "x" });
    expect(rerunInput({})).toBeUndefined();
  });
});
