/**
 * Shared setup for the simulator's own tests: a simulator and raw clients that are closed after
 * each test, plus small builders for Runware tasks.
 */
import { randomUUID } from "node:crypto";
import { afterEach } from "vitest";
import { SimServer, type SimOptions } from "../../src/sim/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { waitFor } from "../helpers/wait.js";
import { WsTestClient, type Frame } from "../helpers/ws-client.js";

/** Fast timings for tests; each test overrides what it exercises. */
const FAST: Partial<SimOptions> = { workMs: 5 };

export function useSim() {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  const start = async (opts: Partial<SimOptions> = {}) => cleanup.add(await SimServer.start({ ...FAST, ...opts }), (s) => s.close());
  const connect = async (sim: SimServer) => cleanup.add(await WsTestClient.connect(sim.url), (c) => c.close());
  /** A connected, authenticated client. */
  const authed = async (sim: SimServer, key = "test-key") => {
    const c = await connect(sim);
    await c.authenticate(key);
    return c;
  };
  /** A client on a fresh session with `task` sent and running in the simulator. */
  const taskRunning = async (sim: SimServer, task = imageTask()) => {
    const c1 = await connect(sim);
    const session = await c1.authenticate();
    c1.send([task]);
    await waitFor(() => sim.counters.outstanding === 1, "the task to start");
    return { c1, session, task };
  };
  return { cleanup, start, connect, authed, taskRunning };
}

export function imageTask(extra: Record<string, unknown> = {}): Record<string, unknown> & { taskUUID: string } {
  return {
    taskType: "imageInference",
    taskUUID: randomUUID(),
    model: "runware:101@1",
    positivePrompt: "a lighthouse at dusk",
    width: 512,
    height: 512,
    ...extra,
  };
}

export const hasError = (code: string) => (f: Frame) => (f.errors ?? []).some((e) => e["code"] === code);

/** A `videoInference` as Runware documents it (docs/protocol.md §8: KlingAI, 10 s), async unless overridden. */
export function videoTask(extra: Record<string, unknown> = {}): Record<string, unknown> & { taskUUID: string } {
  return {
    taskType: "videoInference",
    taskUUID: randomUUID(),
    deliveryMethod: "async",
    model: "klingai:5@3",
    positivePrompt: "a cat playing with a ball of yarn",
    duration: 10,
    width: 1920,
    height: 1080,
    ...extra,
  };
}

/** An `audioInference` (the docs' example: ElevenLabs, 15 s), async unless overridden. */
export function audioTask(extra: Record<string, unknown> = {}): Record<string, unknown> & { taskUUID: string } {
  return {
    taskType: "audioInference",
    taskUUID: randomUUID(),
    deliveryMethod: "async",
    model: "elevenlabs:1@1",
    positivePrompt: "peaceful piano melody with gentle rain",
    duration: 15,
    ...extra,
  };
}

/** Send one getResponse for `taskUUID` and return its reply frame (items with a `status`, or errors; not an ack). */
export async function getResponse(c: WsTestClient, taskUUID: string): Promise<Frame> {
  const from = c.mark();
  c.send([{ taskType: "getResponse", taskUUID }]);
  const mine = (x: Record<string, unknown>) => x["taskUUID"] === taskUUID;
  return c.waitFor((f) => (f.data ?? []).some((x) => mine(x) && x["status"] !== undefined) || (f.errors ?? []).some(mine), {
    from,
    what: `getResponse reply for ${taskUUID}`,
  });
}

/** A `modelUpload` with every field Runware requires (docs/protocol.md §8). */
export function modelUploadTask(extra: Record<string, unknown> = {}): Record<string, unknown> & { taskUUID: string } {
  return {
    taskType: "modelUpload",
    taskUUID: randomUUID(),
    category: "lora",
    architecture: "flux1d",
    format: "safetensors",
    name: "my style",
    version: "1.0",
    downloadURL: "https://example.invalid/my-style.safetensors",
    air: "mine:1@1",
    ...extra,
  };
}
