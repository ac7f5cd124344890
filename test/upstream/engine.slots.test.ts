/**
 * In-flight slot accounting under answers that arrive for an attempt that is already over. Driven by
 * hand over the in-process mock upstream, so each answer lands exactly when the
 * scenario needs it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { UpstreamEngine } from "../../src/upstream/engine.js";
import { TrackingClock } from "../../src/util/clock.js";
import { FAST, imageTask, until } from "../helpers/engine.js";
import { MockUpstream } from "../helpers/mock-transport.js";

let mock: MockUpstream | undefined;
let engine: UpstreamEngine | undefined;
afterEach(async () => {
  await engine?.close("test over");
  mock?.stop();
  engine = mock = undefined;
});

/** Every task frame the mock received, flattened: [taskType, taskUUID] per task. */
function sent(m: MockUpstream): Array<{ taskType: string; taskUUID: string }> {
  return m.peers
    .flatMap((p) => p.frames)
    .map((f) => JSON.parse(f) as Array<{ taskType: string; taskUUID: string }>)
    .flat()
    .filter((t) => t.taskType !== "authentication" && t.taskType !== "ping");
}

function start(clock = new TrackingClock()): UpstreamEngine {
  mock = new MockUpstream();
  engine = new UpstreamEngine({
    ...FAST,
    url: mock.url,
    apiKey: "test-key",
    dialer: mock.dialer,
    clock,
    maxInFlight: 1,
    retryBaseMs: 20,
    retryMaxMs: 20,
    random: () => 0.99,
  });
  engine.start();
  return engine;
}

describe("engine - slot accounting", () => {
  it("engine - a second error of an attempt already being retried is ignored: one retry, no slot lost", async () => {
    const e = start();
    const a = randomUUID();
    const b = randomUUID();
    const ha = e.submit(imageTask({ taskUUID: a, numberResults: 2 }));
    await until(() => sent(mock!).length === 1);
    // The first generation of A fails (transient): A waits to retry; its slot goes to B.
    mock!.peer.sendJson({ errors: [{ code: "timeoutProvider", message: "slow", taskUUID: a }] });
    const hb = e.submit(imageTask({ taskUUID: b }));
    await until(() => sent(mock!).some((t) => t.taskUUID === b));
    await until(() => e.stats().tasks.queued === 1, 2_000, "A back in the queue behind B"); // retry timer fired
    // The same attempt's second generation fails too: it describes an attempt that is over.
    mock!.peer.sendJson({ errors: [{ code: "timeoutProvider", message: "slow", taskUUID: a }] });
    await new Promise((r) => setImmediate(r));
    expect(e.stats().tasks.queued).toBe(1); // not queued twice
    mock!.peer.sendJson({ data: [{ taskType: "imageInference", taskUUID: b, imageUUID: randomUUID() }] });
    await until(() => sent(mock!).filter((t) => t.taskUUID === a).length === 2, 2_000, "A resent once");
    // Answer late, after any second retry timer (20 ms) would have fired for the ignored error.
    await new Promise((r) => setTimeout(r, 60));
    mock!.peer.sendJson({ data: [1, 2].map(() => ({ taskType: "imageInference", taskUUID: a, imageUUID: randomUUID() })) });
    expect((await ha.done).state).toBe("done");
    expect((await hb.done).state).toBe("done");
    await new Promise((r) => setImmediate(r));
    expect(sent(mock!).filter((t) => t.taskUUID === a)).toHaveLength(2);
    expect(e.stats().tasks).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it("engine - a late 'processing' answer during an async task's retry wait does not start polling without a slot", async () => {
    const e = start();
    const a = randomUUID();
    const ha = e.submit(imageTask({ taskUUID: a, deliveryMethod: "async" }));
    await until(() => sent(mock!).length === 1);
    mock!.peer.sendJson({ data: [{ taskType: "imageInference", taskUUID: a }] }); // the ack
    await until(() => sent(mock!).some((t) => t.taskType === "getResponse"), 2_000, "a poll");
    // Two poll answers in flight: the error first (A goes to retry wait), then a late 'processing'.
    mock!.peer.sendJson({ errors: [{ code: "timeoutProvider", message: "slow", taskUUID: a, status: "error" }] });
    mock!.peer.sendJson({ data: [{ taskType: "imageInference", taskUUID: a, status: "processing" }] });
    const b = randomUUID();
    const hb = e.submit(imageTask({ taskUUID: b }));
    await until(() => sent(mock!).some((t) => t.taskUUID === b));
    // B holds the only slot; A must wait for it (it would be polling beside B with the bug).
    const polls = () => sent(mock!).filter((t) => t.taskType === "getResponse").length;
    const pollsBefore = polls();
    await new Promise((r) => setTimeout(r, 80)); // several poll intervals (FAST: 10-50 ms)
    expect(polls()).toBe(pollsBefore);
    expect(e.stats().tasks.inFlight).toBe(1);
    mock!.peer.sendJson({ data: [{ taskType: "imageInference", taskUUID: b, imageUUID: randomUUID() }] });
    await until(() => sent(mock!).filter((t) => t.taskUUID === a && t.taskType === "imageInference").length === 2, 2_000, "A resubmitted");
    mock!.peer.sendJson({ data: [{ taskType: "imageInference", taskUUID: a, imageUUID: randomUUID(), status: "success" }] });
    expect((await ha.done).state).toBe("done");
    expect((await hb.done).state).toBe("done");
    expect(e.stats().tasks).toMatchObject({ inFlight: 0, queued: 0 });
  });
});
