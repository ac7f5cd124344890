/**
 * The promise that plain `curl --unix-socket` is a client (docs/local-api.md §2): a batch, and an NDJSON
 * stream, exactly as a user would type them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { Cleanup } from "../helpers/cleanup.js";
import { startRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";

const run = promisify(execFile);
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function hasCurl(): boolean {
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const CURL = hasCurl();

/** curl must run asynchronously: the daemon answering it lives in this process. */
async function curl(args: string[]): Promise<string> {
  const { stdout } = await run("curl", ["-sS", "--fail-with-body", "--max-time", "10", ...args]);
  return stdout;
}

describe.skipIf(!CURL)("local api - curl --unix-socket (skipped: curl is not installed; .ci/run installs it)", () => {
  it("local api - curl POSTs a batch and gets Runware's {data} envelope", async () => {
    const { socketPath } = await startRig(cleanup);
    const uuid = randomUUID();
    const out = await curl([
      "--unix-socket",
      socketPath,
      "-H",
      "content-type: application/json",
      "-d",
      JSON.stringify([imageTask({ taskUUID: uuid, numberResults: 2 })]),
      "http://localhost/v1",
    ]);
    const body = JSON.parse(out) as { data: Array<Record<string, unknown>> };
    expect(body.data).toHaveLength(2);
    expect(body.data.every((d) => d["taskUUID"] === uuid && d["taskType"] === "imageInference")).toBe(true);
  });

  it("local api - curl streams NDJSON: one JSON object per line, the done line last", async () => {
    const { socketPath } = await startRig(cleanup, { sim: { split: "each" } });
    const out = await curl([
      "-N",
      "--unix-socket",
      socketPath,
      "-H",
      "accept: application/x-ndjson",
      "--data-binary",
      JSON.stringify([imageTask({ numberResults: 3 }), imageTask()]),
      "http://localhost/v1",
    ]);
    expect(out.endsWith("\n")).toBe(true);
    const lines = out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const items = lines.flatMap((l) => (l["data"] ?? []) as unknown[]);
    expect(items).toHaveLength(4);
    expect(lines.at(-1)).toMatchObject({ done: true, tasks: 2, completed: 2, results: 4 });
    expect(lines.filter((l) => "done" in l)).toHaveLength(1);
  });

  it("local api - curl sees a refusal as an HTTP error with Runware's error body", async () => {
    const { socketPath } = await startRig(cleanup);
    const err = await curl(["--unix-socket", socketPath, "-d", "[]", "http://localhost/v1"]).then(
      () => undefined,
      (e: { code?: number; stdout?: string }) => e,
    );
    // --fail-with-body: exit 22 on an HTTP error, the body still printed.
    expect(err?.code).toBe(22);
    expect(JSON.parse(err!.stdout!)).toMatchObject({ errors: [{ code: "invalidRequestBody" }] });
  });
});
