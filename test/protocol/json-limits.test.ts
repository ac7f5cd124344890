import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_JSON_DEPTH, nestedDeeperThan } from "../../src/protocol/json-limits.js";

/** A value nested `depth` levels deep, parsed from text as it would arrive (never built recursively). */
function deepArray(depth: number): unknown {
  return JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`);
}
function deepObject(depth: number): unknown {
  return JSON.parse(`${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`);
}

describe("protocol - json depth limit", () => {
  it("json limits - counts depth as containers on the deepest path (scalars are 0)", () => {
    expect(nestedDeeperThan("x".repeat(1000), 0)).toBe(false);
    expect(nestedDeeperThan(null, 0)).toBe(false);
    expect(nestedDeeperThan([], 0)).toBe(true);
    expect(nestedDeeperThan([], 1)).toBe(false);
    expect(nestedDeeperThan([1, "a", null, true], 1)).toBe(false);
    expect(nestedDeeperThan({ a: [1] }, 1)).toBe(true);
    expect(nestedDeeperThan({ a: [1] }, 2)).toBe(false);
    // The deep branch is found wherever it is among shallow siblings.
    expect(nestedDeeperThan({ a: 1, b: [[], [[[]]]], c: {} }, 4)).toBe(true);
    expect(nestedDeeperThan({ a: 1, b: [[], [[[]]]], c: {} }, 5)).toBe(false);
  });

  it("json limits - a value exactly at the limit passes, one level more does not", () => {
    for (const build of [deepArray, deepObject]) {
      expect(nestedDeeperThan(build(DEFAULT_MAX_JSON_DEPTH), DEFAULT_MAX_JSON_DEPTH)).toBe(false);
      expect(nestedDeeperThan(build(DEFAULT_MAX_JSON_DEPTH + 1), DEFAULT_MAX_JSON_DEPTH)).toBe(true);
    }
  });

  it("json limits - 100,000-deep arrays and objects are reported without overflowing the stack", () => {
    const arr = deepArray(100_000);
    const obj = deepObject(100_000);
    expect(() => JSON.stringify(arr)).toThrow(RangeError); // what the limit protects every encoder from
    expect(nestedDeeperThan(arr, DEFAULT_MAX_JSON_DEPTH)).toBe(true);
    expect(nestedDeeperThan(obj, DEFAULT_MAX_JSON_DEPTH)).toBe(true);
    // Iterative all the way down: a limit above the depth walks every level and says no.
    expect(nestedDeeperThan(arr, 200_000)).toBe(false);
    expect(nestedDeeperThan(obj, 200_000)).toBe(false);
  });

  it("json limits - a Runware-shaped task with references, LoRAs and a very wide array passes", () => {
    const task = {
      taskType: "imageInference",
      taskUUID: "a770f077-f413-47de-9dac-be0b26a35da6",
      inputs: { referenceImages: ["https://im.example/a.png"], mask: { x: [1, 2] } },
      lora: [{ model: "civitai:1@1", weight: 0.8 }],
      wide: Array.from({ length: 100_000 }, (_, i) => ({ i })),
    };
    expect(nestedDeeperThan(task, 4)).toBe(false);
    expect(nestedDeeperThan(task, 2)).toBe(true);
  });

  it("json limits - an own __proto__ key from JSON.parse is walked like any other", () => {
    const v = JSON.parse('{"__proto__":{"a":{"b":{}}}}') as unknown;
    expect(nestedDeeperThan(v, 3)).toBe(true);
    expect(nestedDeeperThan(v, 4)).toBe(false);
  });
});
