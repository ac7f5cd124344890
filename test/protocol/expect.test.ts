import { describe, it, expect } from "vitest";
import { endOf, expectedResults, isComplete, type Expectation } from "../../src/protocol/expect.js";
import type { DataItem } from "../../src/protocol/schemas.js";

const UUID = "a770f077-f413-47de-9dac-be0b26a35da6";
const item = (extra: Record<string, unknown> = {}): DataItem => ({ taskType: "imageInference", taskUUID: UUID, ...extra });
const items = (n: number): DataItem[] => Array.from({ length: n }, (_, i) => item({ imageUUID: `img-${i}` }));

describe("protocol expect - expectedResults", () => {
  const INFERENCE = ["imageInference", "photoMaker", "videoInference", "audioInference", "3dInference", "textInference"];

  it("protocol - inference tasks expect numberResults items", () => {
    for (const taskType of INFERENCE) {
      expect(expectedResults({ taskType, numberResults: 4 }), taskType).toEqual({ kind: "count", count: 4 });
    }
  });

  it("protocol - inference tasks default to one result", () => {
    for (const taskType of INFERENCE) expect(expectedResults({ taskType }), taskType).toEqual({ kind: "count", count: 1 });
  });

  it("protocol - a task with a webhookURL is complete at its acknowledgement, whatever numberResults", () => {
    for (const taskType of ["imageInference", "videoInference", "modelUpload"]) {
      expect(expectedResults({ taskType, numberResults: 4, webhookURL: "http://127.0.0.1:9/hook" }), taskType).toEqual({ kind: "ack" });
    }
    expect(isComplete({ kind: "ack" }, [])).toBe(false);
    expect(isComplete({ kind: "ack" }, [item()])).toBe(true);
    expect(expectedResults({ taskType: "imageInference", numberResults: 4, webhookURL: "" })).toEqual({ kind: "count", count: 4 });
  });

  it("protocol - a bad numberResults falls back to one result", () => {
    for (const numberResults of [0, -3, 1.5, "4", null, NaN, Infinity, true, [2]]) {
      expect(expectedResults({ taskType: "imageInference", numberResults }), String(numberResults)).toEqual({ kind: "count", count: 1 });
    }
  });

  it("protocol - promptEnhance expects promptVersions items (default 1), not numberResults", () => {
    expect(expectedResults({ taskType: "promptEnhance", promptVersions: 3 })).toEqual({ kind: "count", count: 3 });
    expect(expectedResults({ taskType: "promptEnhance" })).toEqual({ kind: "count", count: 1 });
    expect(expectedResults({ taskType: "promptEnhance", promptVersions: 0 })).toEqual({ kind: "count", count: 1 });
    expect(expectedResults({ taskType: "promptEnhance", numberResults: 5 })).toEqual({ kind: "count", count: 1 });
  });

  it("protocol - modelUpload ends at the first status that is not an in-progress one: ready is done, any other a failure", () => {
    const e = expectedResults({ taskType: "modelUpload" });
    const status = (...ss: string[]) => ss.map((s) => item({ taskType: "modelUpload", status: s }));
    expect(endOf(e, [])).toBeUndefined();
    expect(endOf(e, status("validated", "downloaded", "optimized", "stored"))).toBeUndefined();
    expect(endOf(e, status("validated", "downloaded", "optimized", "stored", "ready"))).toEqual({ state: "done" });
    expect(endOf(e, status("validated", "failed"))).toMatchObject({ state: "failed", code: "taskStatusFailed" });
    const odd = endOf(e, [...status("validated"), item({ status: "error downloading", message: "HTTP 404 from the download URL" })]);
    expect(odd).toEqual({
      state: "failed",
      code: "taskStatusFailed",
      message: 'the task ended with status "error downloading": HTTP 404 from the download URL',
    });
    // An item without a status (not one of the stream's) ends nothing.
    expect(endOf(e, [item()])).toBeUndefined();
  });

  it("protocol - every other task type expects exactly one item, ignoring numberResults", () => {
    for (const taskType of ["imageUpload", "upscale", "removeBackground", "caption", "modelSearch", "getResponse", "imageMasking"]) {
      expect(expectedResults({ taskType, numberResults: 3 }), taskType).toEqual({ kind: "count", count: 1 });
    }
  });
});

describe("protocol expect - isComplete", () => {
  it("protocol - a count expectation completes once enough items arrived, not before", () => {
    const e: Expectation = { kind: "count", count: 3 };
    expect(isComplete(e, [])).toBe(false);
    expect(isComplete(e, items(2))).toBe(false);
    expect(isComplete(e, items(3))).toBe(true);
    expect(isComplete(e, items(4))).toBe(true);
  });

  it("protocol - modelUpload completes only when the latest status is terminal", () => {
    const e = expectedResults({ taskType: "modelUpload" });
    const status = (...s: string[]): DataItem[] => s.map((st) => ({ taskType: "modelUpload", taskUUID: UUID, status: st }));
    expect(isComplete(e, [])).toBe(false);
    expect(isComplete(e, status("validated", "downloaded", "optimized", "stored"))).toBe(false);
    expect(isComplete(e, status("validated", "downloaded", "optimized", "stored", "ready"))).toBe(true);
    expect(isComplete(e, status("validated", "failed"))).toBe(true);
    expect(isComplete(e, [{ taskType: "modelUpload", taskUUID: UUID, status: 1 }])).toBe(false);
    expect(isComplete(e, [{ taskType: "modelUpload", taskUUID: UUID }])).toBe(false);
  });
});
