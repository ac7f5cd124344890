import { describe, it, expect, afterEach } from "vitest";
import { WsTestClient } from "../helpers/ws-client.js";
import { Cleanup } from "../helpers/cleanup.js";
import { spawnCli } from "../helpers/daemon.js";
import { parseSimArgs } from "../../src/cli/sim.js";
import { SIM_TASK_TYPES } from "../../src/sim/index.js";
import { waitFor } from "../helpers/wait.js";
import { getResponse, videoTask } from "./harness.js";

// The CLI runs from the build (`npm test` builds first; run `npm run build` before this file locally).
const LINE = /^runware sim listening on (ws:\/\/127\.0\.0\.1:(\d+)\/v1) \(images (http:\/\/127\.0\.0\.1:\d+)\)$/;
const READY = "runware sim listening on";

describe("sim - runware sim command", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  const start = (args: string[]) => spawnCli(cleanup, args, {});

  it("sim - prints its URL once ready, serves the API, and exits 0 on SIGTERM", async () => {
    const r = start(["sim", "--port", "0", "--work-ms", "1", "--reject-key", "bad-key"]);
    const line = await r.waitForLine(READY);
    const m = LINE.exec(line);
    expect(m, line).not.toBeNull();
    const c = cleanup.add(await WsTestClient.connect(m![1]!), (x) => x.close());
    expect((await c.authFrame("bad-key")).errors?.[0]?.["code"]).toBe("invalidApiKey");
    await c.authenticate("test-key");
    const counters = (await (await fetch(`${m![3]}/_sim/counters`)).json()) as { auths: unknown[] };
    expect(counters.auths).toHaveLength(1);
    await c.close();
    r.child.kill("SIGTERM");
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.stdout().trim().split("\n")).toHaveLength(1);
  });

  it("sim - --time-scale 0.001 renders a 60 s video in milliseconds and serves its MP4", async () => {
    const r = start(["sim", "--port", "0", "--time-scale", "0.001"]);
    const m = LINE.exec(await r.waitForLine(READY));
    const c = cleanup.add(await WsTestClient.connect(m![1]!), (x) => x.close());
    await c.authenticate("test-key");
    const task = videoTask();
    c.send([task]);
    await c.itemsFor(task.taskUUID, 1); // the ack
    const done = await waitFor(async () => {
      const item = (await getResponse(c, task.taskUUID)).data?.[0];
      return item?.["status"] === "success" ? item : undefined;
    }, "the video to render");
    const mp4 = Buffer.from(await (await fetch(done["videoURL"])).arrayBuffer());
    expect(mp4.toString("latin1", 4, 8)).toBe("ftyp");
    await c.close();
    r.child.kill("SIGTERM");
    expect(await r.exited).toEqual({ code: 0, signal: null });
  });

  it("sim - --help lists every task type the simulator answers", async () => {
    const r = start(["sim", "--help"]);
    expect(await r.exited).toEqual({ code: 0, signal: null });
    const listed = r.stdout().split("Task types it answers")[1]?.split("\n\n")[0] ?? "";
    for (const taskType of ["authentication", "ping", "getResponse", ...SIM_TASK_TYPES]) expect(listed, taskType).toContain(taskType);
    expect(SIM_TASK_TYPES).toEqual(
      expect.arrayContaining(["imageInference", "videoInference", "audioInference", "imageUpload", "modelUpload"]),
    );
  });

  it("sim - exits 0 on SIGINT too", async () => {
    const r = start(["sim"]);
    expect(await r.waitForLine(READY)).toMatch(LINE);
    r.child.kill("SIGINT");
    expect(await r.exited).toEqual({ code: 0, signal: null });
  });

  it("sim - rejects bad flags with usage and exit code 2", async () => {
    const r = start(["sim", "--split", "sideways"]);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toMatch(/--split must be one of/);
    const u = start(["frobnicate"]);
    expect((await u.exited).code).toBe(2);
    expect(u.stderr()).toMatch(/unknown command/);
  });

  it("sim - maps every flag onto the simulator options", () => {
    const parsed = parseSimArgs([
      "--port",
      "4321",
      "--host",
      "127.0.0.2",
      "--work-ms",
      "5",
      "--latency-ms",
      "6",
      "--auth-delay-ms",
      "7",
      "--idle-close-ms",
      "8",
      "--resume-buffer-ms",
      "9",
      "--reject-key",
      "a",
      "--reject-key",
      "b",
      "--transient-rate",
      "0.25",
      "--split",
      "each",
      "--time-scale",
      "0.001",
      "--video-render-ms",
      "30000",
      "--audio-render-ms",
      "4000",
    ]);
    expect(parsed).toEqual({
      help: false,
      transientRate: 0.25,
      options: {
        port: 4321,
        host: "127.0.0.2",
        workMs: 5,
        latencyMs: 6,
        authDelayMs: 7,
        idleCloseMs: 8,
        resumeBufferMs: 9,
        rejectedKeys: ["a", "b"],
        split: "each",
        timeScale: 0.001,
        videoRenderMs: 30000,
        audioRenderMs: 4000,
      },
    });
    expect(() => parseSimArgs(["--transient-rate", "2"])).toThrow(/between 0 and 1/);
    expect(() => parseSimArgs(["--work-ms=-1"])).toThrow(/>= 0/);
    expect(() => parseSimArgs(["--time-scale", "fast"])).toThrow(/--time-scale must be a number >= 0/);
    expect(() => parseSimArgs(["--nope"])).toThrow();
  });
});
