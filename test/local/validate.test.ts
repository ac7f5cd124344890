/**
 * validateBatch's depth check (docs/local-api.md §2.3): a task nested past `maxJsonDepth` is refused
 * with 400 invalidRequestBody naming the limit, its index and its taskUUID; an apiKey is refused as
 * a key at any depth; and a task at the limit passes untouched.
 */
import { describe, expect, it } from "vitest";
import { isRefusal, validateBatch, type Refusal } from "../../src/local/validate.js";
import type { Task } from "../../src/protocol/schemas.js";

const UUID = "a770f077-f413-47de-9dac-be0b26a35da6";
const nobody = () => false;
/** A value `depth` arrays deep, parsed from text as a body would be. */
const deep = (depth: number): unknown => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`);

function refusal(v: Task[] | Refusal): Refusal {
  if (!isRefusal(v)) throw new Error(`expected a refusal, got ${v.length} tasks`);
  return v;
}

describe("local api - validateBatch depth limit", () => {
  it("validate - a task nested past the limit is refused, naming the limit, its index and its taskUUID", () => {
    const body = [{ taskType: "ping" }, { taskType: "imageInference", taskUUID: UUID, x: deep(6_000) }];
    expect(refusal(validateBatch(body, nobody, 64))).toEqual({
      status: 400,
      error: {
        code: "invalidRequestBody",
        message: `task 1 (taskUUID ${UUID}) is nested deeper than 64 levels, the daemon's limit (maxJsonDepth)`,
        taskType: "imageInference",
        taskUUID: UUID,
      },
    });
  });

  it("validate - without a taskUUID the refusal names the index only", () => {
    const r = refusal(validateBatch([{ taskType: "imageInference", x: deep(100) }], nobody, 64));
    expect(r.error.message).toBe("task 0 is nested deeper than 64 levels, the daemon's limit (maxJsonDepth)");
    expect(r.error).not.toHaveProperty("taskUUID");
  });

  it("validate - the task object is level 1: at the limit it passes, one more level is refused", () => {
    // {x: [[...]]}: the object plus 9 arrays is 10 levels.
    const at = [{ taskType: "imageInference", taskUUID: UUID, x: deep(9) }];
    const tasks = validateBatch(at, nobody, 10);
    expect(isRefusal(tasks)).toBe(false);
    expect(tasks).toEqual(at);
    expect(refusal(validateBatch([{ taskType: "imageInference", x: deep(10) }], nobody, 10)).error.code).toBe("invalidRequestBody");
  });

  it("validate - an apiKey below the depth limit is still refused as a key, never as depth", () => {
    let leaf: unknown = { apiKey: "sk-secret" };
    for (let i = 0; i < 5_000; i++) leaf = { n: leaf };
    const r = refusal(validateBatch([{ taskType: "imageInference", x: leaf }], nobody, 64));
    expect(r.error.code).toBe("unsupportedParameter");
    expect(JSON.stringify(r)).not.toContain("sk-secret");
  });

  it("validate - a bad taskUUID on a deep task is refused as a bad taskUUID (the depth refusal only names real UUIDs)", () => {
    const r = refusal(validateBatch([{ taskType: "imageInference", taskUUID: "not-a-uuid", x: deep(100) }], nobody, 64));
    expect(r.error.code).toBe("invalidTaskUUID");
  });

  it("validate - Runware-shaped tasks a few levels deep pass at the default limit", () => {
    const task = {
      taskType: "imageInference",
      taskUUID: UUID,
      inputs: { referenceImages: ["https://im.example/a.png"] },
      lora: [{ model: "civitai:1@1", weight: 0.8 }],
      outputFormat: "PNG",
    };
    expect(validateBatch([task], nobody, 64)).toEqual([task]);
  });
});
