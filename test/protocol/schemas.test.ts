import { describe, it, expect } from "vitest";
import { TaskSchema, InboundFrameSchema, ErrorObjectSchema } from "../../src/protocol/schemas.js";

// A valid v4 UUID (version nibble 4, variant 8..b), as the docs require for taskUUID (docs/protocol.md §3.1).
const V4 = "a770f077-f413-47de-9dac-be0b26a35da6";

describe("protocol schemas - TaskSchema", () => {
  it("protocol - accepts a task and passes every extra field through untouched", () => {
    const task = {
      taskType: "imageInference",
      taskUUID: V4,
      model: "runware:101@1",
      positivePrompt: "a serene mountain landscape",
      width: 1024,
      numberResults: 4,
      lora: [{ model: "civitai:1@2", weight: 0.5 }],
      safety: { checkContent: true, mode: "fast" },
      includeCost: true,
    };
    const parsed = TaskSchema.safeParse(task);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(task);
  });

  it("protocol - rejects a missing, empty or non-string taskType", () => {
    for (const taskType of [undefined, "", 42, null, ["imageInference"]]) {
      expect(TaskSchema.safeParse({ taskType, taskUUID: V4 }).success, `taskType=${JSON.stringify(taskType)}`).toBe(false);
    }
  });

  it("protocol - rejects a taskUUID that is missing, malformed or not version 4", () => {
    const bad = [
      undefined,
      "",
      "not-a-uuid",
      42,
      "a770f077-f413-17de-9dac-be0b26a35da6", // version 1
      "a770f077-f413-77de-9dac-be0b26a35da6", // version 7
      "00000000-0000-0000-0000-000000000000", // nil
      "a770f077-f413-47de-cdac-be0b26a35da6", // v4 nibble but wrong variant
      "a770f077f41347de9dacbe0b26a35da6", // no dashes
    ];
    for (const taskUUID of bad) {
      expect(TaskSchema.safeParse({ taskType: "imageInference", taskUUID }).success, `taskUUID=${String(taskUUID)}`).toBe(false);
    }
  });

  it("protocol - accepts a crypto.randomUUID() taskUUID", () => {
    expect(TaskSchema.safeParse({ taskType: "ping", taskUUID: crypto.randomUUID() }).success).toBe(true);
  });
});

describe("protocol schemas - inbound frames", () => {
  it("protocol - keeps unknown fields on the frame, its items and its errors", () => {
    const frame = {
      data: [{ taskType: "imageInference", taskUUID: V4, imageUUID: "x", cost: 0.0027, newField: { a: 1 } }],
      errors: [{ code: "timeoutProvider", message: "m", taskUUID: V4, status: "error", documentation: "https://runware.ai/docs" }],
      requestId: "r-1",
    };
    const parsed = InboundFrameSchema.safeParse(frame);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(frame);
  });

  it("protocol - accepts data as a single object (image-upload docs shape)", () => {
    const parsed = InboundFrameSchema.safeParse({ data: { taskType: "imageUpload", taskUUID: V4, imageUUID: "u" } });
    expect(parsed.success).toBe(true);
    expect(parsed.data?.data).toEqual({ taskType: "imageUpload", taskUUID: V4, imageUUID: "u" });
  });

  it("protocol - rejects data that is neither an array nor an object", () => {
    for (const data of ["text", 3, true]) expect(InboundFrameSchema.safeParse({ data }).success).toBe(false);
  });

  it("protocol - error objects accept a parameter array and default a missing message to empty", () => {
    const parsed = ErrorObjectSchema.safeParse({ code: "invalidWidth", parameter: ["width", "height"] });
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual({ code: "invalidWidth", message: "", parameter: ["width", "height"] });
  });

  it("protocol - error objects without a string code are kept as unknownError", () => {
    expect(ErrorObjectSchema.parse({ message: "no code" }).code).toBe("unknownError");
    expect(ErrorObjectSchema.parse({ code: 19, message: "numeric code" }).code).toBe("unknownError");
  });
});
