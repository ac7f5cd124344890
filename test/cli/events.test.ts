/**
 * Issue 17: the live event stream. `runware events` (a real child process) shows a task's life in
 * order; the stream is NDJSON or server-sent events; a reader that falls behind its byte budget
 * gets a last `dropped` line; never a task's input. And the readable line on a terminal.
 */
import { connect as netConnect } from "node:net";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { DaemonEvent } from "../../src/protocol/events.js";
import { eventLine } from "../../src/cli/event-line.js";
import { Cleanup } from "../helpers/cleanup.js";
import { startCli } from "../helpers/cli.js";
import { postTasks, startRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const lines = (text: string): DaemonEvent[] =>
  text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as DaemonEvent);

describe("events", () => {
  it("events - runware events shows a task's life in order: accepted, sent, progress, done with its cost; never its prompt", async () => {
    const rig = await startRig(cleanup, { sim: { timeScale: 0.002 } });
    const cli = startCli(cleanup, ["events", "--socket", rig.socketPath]);
    await waitFor(() => rig.daemon.eventReaders === 1, "runware events reading the stream");
    const uuid = randomUUID();
    const video = {
      taskType: "videoInference",
      taskUUID: uuid,
      model: "klingai:5@3",
      positivePrompt: "secret waves",
      duration: 5,
      width: 1280,
      height: 720,
    };
    expect((await postTasks(rig.socketPath, [video], { "runware-label": "nightly" })).status).toBe(200);
    await waitFor(() => lines(cli.stdout()).some((e) => e.type === "task.done"), "the done event on stdout");
    const mine = lines(cli.stdout()).filter((e) => "taskUUID" in e && e.taskUUID === uuid);
    const kinds = mine.map((e) => e.type).filter((t, i, all) => t !== "task.progress" || all[i - 1] !== "task.progress");
    expect(kinds[0]).toBe("task.accepted");
    expect(kinds[1]).toBe("task.sent");
    expect(kinds.at(-1)).toBe("task.done");
    expect(mine.every((e) => "label" in e && e.label === "nightly" && e.taskType === "videoInference")).toBe(true);
    const done = mine.at(-1) as Extract<DaemonEvent, { ms: number }>;
    expect(done.cost).toBeGreaterThan(0);
    expect(done.ms).toBeGreaterThanOrEqual(0);
    const progress = mine.filter((e) => e.type === "task.progress").map((e) => (e as { progress: number }).progress);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b)); // rising
    expect(cli.stdout()).not.toContain("secret waves");
    const times = mine.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("events - server-sent events when asked; a reader that stops reading is dropped with a last line saying so", async () => {
    const rig = await startRig(cleanup, { settings: { eventReaderMaxBytes: 4096 } });
    // A raw reader that sends its request and then reads nothing for a while.
    const sock = netConnect(rig.socketPath);
    cleanup.defer(() => sock.destroy());
    let got = "";
    sock.on("data", (b: Buffer) => (got += b.toString()));
    sock.write("GET /v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
    await waitFor(() => got.includes("\r\n\r\n"), "the event stream's head");
    expect(got).toMatch(/content-type: text\/event-stream/i);
    sock.pause();
    // Tasks until the daemon has let the reader go (the socket's buffers fill first); reading
    // resumes the moment it has, well within the second a dropped reader has for its last line.
    const posting = { on: true };
    const load = (async () => {
      for (let i = 0; i < 60 && posting.on; i++)
        await postTasks(
          rig.socketPath,
          Array.from({ length: 50 }, () => imageTask()),
        );
    })();
    await waitFor(() => rig.daemon.eventReaders === 0, "the reader dropped", 30_000);
    sock.resume();
    posting.on = false;
    await load;
    await waitFor(() => got.includes('"type":"dropped"'), "the last line");
    const data = got.split("\n").filter((l) => l.startsWith("data: "));
    expect(data.length).toBeGreaterThan(10);
    const last = JSON.parse(data.at(-1)!.slice("data: ".length)) as DaemonEvent;
    expect(last).toMatchObject({ type: "dropped", reason: expect.stringContaining("4096 bytes") });
  });

  it("event line - one readable line per event: time, what, type, short UUID, label, then duration and cost", () => {
    const at = new Date(2026, 11, 6, 9, 5, 3, 42).toISOString();
    const base = { at, taskUUID: "6f1c2a3b-0000-4000-8000-000000000000", taskType: "imageInference", label: "runware run" };
    expect(eventLine({ type: "task.accepted", ...base })).toBe("09:05:03.042  accepted   imageInference    6f1c2a3b  runware run");
    expect(eventLine({ type: "task.done", ...base, ms: 1234, cost: 0.0013 })).toBe(
      "09:05:03.042  done       imageInference    6f1c2a3b  runware run  1.2s  $0.0013",
    );
    expect(eventLine({ type: "task.failed", ...base, ms: 80, code: "invalidWidth" })).toContain("80ms  invalidWidth");
    expect(eventLine({ type: "upstream.state", at, from: "backoff", to: "ready", reason: "authenticated\n" })).toBe(
      "09:05:03.042  upstream   backoff -> ready (authenticated )",
    );
  });
});
