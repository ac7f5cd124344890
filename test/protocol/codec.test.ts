import { describe, it, expect } from "vitest";
import { splitFrame, encodeAuth, encodeTasks, PING_FRAME, PONG_FRAME, AUTH_TASK_TYPE } from "../../src/protocol/codec.js";
import { ProtocolError } from "../../src/errors.js";

const A = "a770f077-f413-47de-9dac-be0b26a35da6";
const B = "24cd5dff-cb35-4f7a-8a2b-5b8e0f8a1c11";
const SESSION = "f40c2aeb-f8a7-4af7-a1ab-7594c9bf778f";

/** Runs `fn` and returns what it threw, so tests can check the error's class and code. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("protocol codec - splitFrame routing", () => {
  it("protocol - groups items and errors of two tasks in one frame by taskUUID, in arrival order", () => {
    const out = splitFrame(
      JSON.stringify({
        data: [
          { taskType: "imageInference", taskUUID: A, imageUUID: "a1" },
          { taskType: "imageInference", taskUUID: B, imageUUID: "b1" },
          { taskType: "imageInference", taskUUID: A, imageUUID: "a2" },
        ],
        errors: [{ code: "invalidWidth", message: "bad width", parameter: "width", taskUUID: B }],
      }),
    );
    expect([...out.tasks.keys()]).toEqual([A, B]);
    expect(out.tasks.get(A)!.items.map((i) => i["imageUUID"])).toEqual(["a1", "a2"]);
    expect(out.tasks.get(A)!.errors).toEqual([]);
    expect(out.tasks.get(B)!.items.map((i) => i["imageUUID"])).toEqual(["b1"]);
    expect(out.tasks.get(B)!.errors).toEqual([{ code: "invalidWidth", message: "bad width", parameter: "width", taskUUID: B }]);
    expect(out.orphanErrors).toEqual([]);
    expect(out.orphanItems).toEqual([]);
  });

  it("protocol - keeps every field of a result item (unknown fields included)", () => {
    const item = {
      taskType: "imageInference",
      taskUUID: A,
      imageUUID: "u",
      imageURL: "https://im.example/u.png",
      seed: 42,
      cost: 0.0027,
      brandNew: [1],
    };
    expect(splitFrame(JSON.stringify({ data: [item] })).tasks.get(A)!.items).toEqual([item]);
  });

  it("protocol - routes the auth success item by taskType", () => {
    const out = splitFrame(JSON.stringify({ data: [{ taskType: "authentication", connectionSessionUUID: SESSION }] }));
    expect(out.auth.items).toEqual([{ taskType: "authentication", connectionSessionUUID: SESSION }]);
    expect(out.tasks.size).toBe(0);
  });

  it("protocol - routes the auth failure error (docs example) by taskType", () => {
    const err = { code: "invalidApiKey", message: "Invalid API key.", parameter: "apiKey", taskType: "authentication" };
    const out = splitFrame(JSON.stringify({ errors: [err] }));
    expect(out.auth.errors).toEqual([err]);
    expect(out.orphanErrors).toEqual([]);
  });

  it("protocol - counts pongs and does not treat them as results", () => {
    const out = splitFrame(
      JSON.stringify({
        data: [
          { taskType: "ping", pong: true },
          { taskType: "ping", pong: true },
        ],
      }),
    );
    expect(out.pongs).toBe(2);
    expect(out.orphanItems).toEqual([]);
    expect(splitFrame(PONG_FRAME).pongs).toBe(1);
  });

  it("protocol - a ping item without pong:true is not a pong", () => {
    const out = splitFrame(JSON.stringify({ data: [{ taskType: "ping", pong: false }] }));
    expect(out.pongs).toBe(0);
    expect(out.orphanItems).toEqual([{ taskType: "ping", pong: false }]);
  });

  it("protocol - items and errors with neither taskUUID nor a protocol taskType are orphans", () => {
    const out = splitFrame(
      JSON.stringify({
        data: [{ taskType: "imageInference", imageUUID: "x" }],
        errors: [{ code: "internalServerError", message: "boom" }],
      }),
    );
    expect(out.orphanItems).toEqual([{ taskType: "imageInference", imageUUID: "x" }]);
    expect(out.orphanErrors).toEqual([{ code: "internalServerError", message: "boom" }]);
    expect(out.tasks.size).toBe(0);
  });

  it("protocol - getResponse replies carry the original taskType and route by taskUUID (docs example)", () => {
    const out = splitFrame(
      JSON.stringify({
        data: [
          { taskType: "videoInference", taskUUID: A, status: "processing" },
          { taskType: "videoInference", taskUUID: A, status: "success", videoUUID: "v", videoURL: "https://x/v.mp4", cost: 0.18 },
        ],
        errors: [
          { code: "timeoutProvider", status: "error", message: "provider timeout", documentation: "https://runware.ai/docs", taskUUID: A },
        ],
      }),
    );
    expect([...out.tasks.keys()]).toEqual([A]);
    const slice = out.tasks.get(A)!;
    expect(slice.items.map((i) => i["status"])).toEqual(["processing", "success"]);
    expect(slice.errors).toHaveLength(1);
    expect(slice.errors[0]).toMatchObject({ code: "timeoutProvider", status: "error", documentation: "https://runware.ai/docs" });
  });

  it("protocol - an item-level getResponse failure stays an item of its task", () => {
    const item = { taskType: "imageInference", taskUUID: A, status: "error", error: { code: "timeoutProvider", message: "m" } };
    const out = splitFrame(JSON.stringify({ data: [item] }));
    expect(out.tasks.get(A)!.items).toEqual([item]);
    expect(out.tasks.get(A)!.errors).toEqual([]);
  });

  it("protocol - an error without a message gets an empty message instead of being dropped", () => {
    const out = splitFrame(JSON.stringify({ errors: [{ code: "conflictTaskUUID", taskUUID: A }] }));
    expect(out.tasks.get(A)!.errors).toEqual([{ code: "conflictTaskUUID", message: "", taskUUID: A }]);
  });
});

describe("protocol codec - splitFrame shape variants", () => {
  it("protocol - accepts data as an object instead of an array", () => {
    const out = splitFrame(JSON.stringify({ data: { taskType: "imageUpload", taskUUID: A, imageUUID: "u" } }));
    expect(out.tasks.get(A)!.items).toEqual([{ taskType: "imageUpload", taskUUID: A, imageUUID: "u" }]);
  });

  it("protocol - accepts a singular error object", () => {
    const out = splitFrame(JSON.stringify({ error: { code: "providerRateLimitExceeded", message: "slow down", taskUUID: A } }));
    expect(out.tasks.get(A)!.errors).toEqual([{ code: "providerRateLimitExceeded", message: "slow down", taskUUID: A }]);
  });

  it("protocol - accepts a singular error holding an array; a malformed entry becomes an unknownError orphan", () => {
    const out = splitFrame(
      JSON.stringify({
        error: [
          { code: "invalidWidth", message: "w", taskUUID: A },
          { code: "invalidApiKey", message: "k", taskType: "authentication" },
          { nonsense: true },
        ],
      }),
    );
    expect(out.tasks.get(A)!.errors.map((e) => e.code)).toEqual(["invalidWidth"]);
    expect(out.auth.errors.map((e) => e.code)).toEqual(["invalidApiKey"]);
    expect(out.orphanErrors.map((e) => e.code)).toEqual(["unknownError"]);
  });

  it("protocol - a code-less error entry does not sink other tasks' results in the same frame", () => {
    const out = splitFrame(
      JSON.stringify({
        data: [{ taskType: "imageInference", taskUUID: A, imageUUID: "i1" }],
        errors: [{ message: "no code here", taskUUID: A }],
      }),
    );
    expect(out.tasks.get(A)!.items).toHaveLength(1);
    expect(out.tasks.get(A)!.errors.map((e) => e.code)).toEqual(["unknownError"]);
  });

  it("protocol - null data/errors and a string error are tolerated", () => {
    const out = splitFrame(JSON.stringify({ data: null, errors: null, error: "upstream exploded" }));
    expect(out.tasks.size).toBe(0);
    expect(out.orphanErrors).toEqual([{ code: "unknownError", message: "upstream exploded" }]);
  });

  it('protocol - accepts array-wrapped frames like [{"errors":[...]}] and merges them', () => {
    const out = splitFrame(
      JSON.stringify([
        { errors: [{ code: "insufficientCredits", message: "top up", taskUUID: A }] },
        { data: [{ taskType: "imageInference", taskUUID: B, imageUUID: "b" }] },
      ]),
    );
    expect(out.tasks.get(A)!.errors.map((e) => e.code)).toEqual(["insufficientCredits"]);
    expect(out.tasks.get(B)!.items).toHaveLength(1);
  });

  it("protocol - maps the legacy {error:true, errorId:19} auth failure to invalidApiKey for auth", () => {
    const out = splitFrame(JSON.stringify({ error: true, errorMessageContentId: 1212, errorId: 19, errorMessage: "Invalid api key" }));
    expect(out.auth.errors).toEqual([{ code: "invalidApiKey", message: "Invalid api key", taskType: AUTH_TASK_TYPE }]);
    expect(out.orphanErrors).toEqual([]);
  });

  it("protocol - any other legacy error becomes an orphan legacyError", () => {
    const out = splitFrame(JSON.stringify({ error: true, errorId: 7, errorMessage: "old failure" }));
    expect(out.orphanErrors).toEqual([{ code: "legacyError", message: "old failure" }]);
    expect(out.auth.errors).toEqual([]);
  });

  it("protocol - an empty object frame yields nothing", () => {
    const out = splitFrame("{}");
    expect([
      out.tasks.size,
      out.auth.items.length,
      out.auth.errors.length,
      out.pongs,
      out.orphanErrors.length,
      out.orphanItems.length,
    ]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe("protocol codec - splitFrame garbage", () => {
  const garbage: Array<[string, string]> = [
    ["non-JSON text", "not json {"],
    ["a truncated frame", '{"data":[{"taskType":"imageInference"'],
    ["a bare number", "42"],
    ["a bare string", '"hello"'],
    ["null", "null"],
    ["a frame whose data is a string", '{"data":"oops"}'],
    ["a frame whose data holds a number", '{"data":[1]}'],
    ["an array holding a number", "[1]"],
    ["a frame whose errors is not an array", '{"errors":{"code":"x","message":"y"}}'],
  ];
  for (const [what, text] of garbage) {
    it(`protocol - ${what} throws ProtocolError with code protocolError`, () => {
      const err = thrown(() => splitFrame(text));
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe("protocolError");
    });
  }
});

describe("protocol codec - splitFrame depth limit", () => {
  /** JSON text of a value nested `depth` arrays deep (text, so the test never recurses either). */
  const deep = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
  const item = (uuid: string, extra: string) => `{"taskType":"imageInference","taskUUID":"${uuid}","imageUUID":"i","deep":${extra}}`;

  it("protocol - an item nested past the limit becomes an invalidResponse error for its task; other tasks' items pass", () => {
    const out = splitFrame(`{"data":[${item(A, deep(6_000))},${item(B, deep(3))}]}`);
    expect(out.tasks.get(A)!.items).toEqual([]);
    expect(out.tasks.get(A)!.errors).toEqual([
      {
        code: "invalidResponse",
        message: "Runware's reply for this task is nested deeper than 64 levels; the daemon does not pass it on",
        taskUUID: A,
        taskType: "imageInference",
      },
    ]);
    expect(out.tasks.get(B)!.items.map((i) => i["imageUUID"])).toEqual(["i"]);
    expect(out.tasks.get(B)!.errors).toEqual([]);
    // What leaves the codec can be encoded again, by every local encoder.
    expect(() => JSON.stringify([...out.tasks.values()])).not.toThrow();
  });

  it("protocol - the limit is an argument: at it an item passes, one level past it does not", () => {
    // The item object is level 1, its `deep` field adds the rest.
    expect(splitFrame(`{"data":[${item(A, deep(9))}]}`, 10).tasks.get(A)!.items).toHaveLength(1);
    expect(splitFrame(`{"data":[${item(A, deep(10))}]}`, 10).tasks.get(A)!.errors[0]!.code).toBe("invalidResponse");
  });

  it("protocol - a deep error, in errors or a singular error, becomes an invalidResponse error for its task", () => {
    const err = (uuid: string) => `{"code":"invalidWidth","message":"m","taskUUID":"${uuid}","detail":${deep(5_000)}}`;
    for (const text of [`{"errors":[${err(A)}]}`, `{"error":${err(A)}}`, `{"error":[${err(A)}]}`]) {
      const out = splitFrame(text);
      expect(
        out.tasks.get(A)!.errors.map((e) => e.code),
        text.slice(0, 40),
      ).toEqual(["invalidResponse"]);
    }
  });

  it("protocol - a deep item or error that names no task sinks the frame like an unparseable one", () => {
    for (const text of [
      `{"data":[{"taskType":"authentication","x":${deep(6_000)}}]}`,
      `{"errors":[{"code":"x","message":"y","x":${deep(6_000)}}]}`,
      `{"data":${deep(6_000)}}`,
      deep(100_000),
    ]) {
      const err = thrown(() => splitFrame(text));
      expect(err, text.slice(0, 40)).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe("protocolError");
    }
  });

  it("protocol - frame-level fields are not results: a deep unknown field beside them changes nothing", () => {
    const out = splitFrame(`{"data":[${item(A, "1")}],"extra":${deep(6_000)}}`);
    expect(out.tasks.get(A)!.items).toHaveLength(1);
    expect(out.tasks.get(A)!.errors).toEqual([]);
  });
});

describe("protocol codec - encoding", () => {
  it("protocol - encodeAuth sends a one-task array with the key and no taskUUID", () => {
    expect(JSON.parse(encodeAuth("test-key"))).toEqual([{ taskType: "authentication", apiKey: "test-key" }]);
  });

  it("protocol - encodeAuth adds connectionSessionUUID when resuming", () => {
    expect(JSON.parse(encodeAuth("test-key", SESSION))).toEqual([
      { taskType: "authentication", apiKey: "test-key", connectionSessionUUID: SESSION },
    ]);
    expect(JSON.parse(encodeAuth("test-key", ""))).toEqual([{ taskType: "authentication", apiKey: "test-key" }]);
  });

  it("protocol - encodeTasks always sends an array, even for one task", () => {
    const one = { taskType: "imageInference", taskUUID: A, positivePrompt: "p" };
    expect(JSON.parse(encodeTasks([one]))).toEqual([one]);
    expect(JSON.parse(encodeTasks([one, { taskType: "ping", ping: true }]))).toEqual([one, { taskType: "ping", ping: true }]);
    expect(JSON.parse(encodeTasks([]))).toEqual([]);
  });

  it("protocol - ping and pong frames match the documented keepalive shapes", () => {
    expect(JSON.parse(PING_FRAME)).toEqual([{ taskType: "ping", ping: true }]);
    expect(JSON.parse(PONG_FRAME)).toEqual({ data: [{ taskType: "ping", pong: true }] });
  });
});
