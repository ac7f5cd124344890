/**
 * Frames from Runware are bounded (docs/reliability.md, Limits: `--max-upstream-frame-bytes`): a
 * larger one closes the link with 1009 instead of being read whole, and the daemon reconnects and
 * serves other work; it never dies of one frame.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, startRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("limits - frames from Runware", () => {
  it("limits - a frame past --max-upstream-frame-bytes closes the link (1009); the daemon reconnects and serves other tasks", async () => {
    const rig = await startRig(cleanup, { sim: { base64ResultChars: 256 * 1024 }, settings: { maxUpstreamFrameBytes: 64 * 1024 } });
    const status = await getJson(rig.socketPath, "/v1/status");
    expect((status.json!["limits"] as Record<string, number>)["maxUpstreamFrameBytes"]).toBe(64 * 1024);

    // Its result frame is 4x the limit: it never gets through, so its caller waits (it ends when the daemon stops).
    const big = postTasks(rig.socketPath, [imageTask({ outputType: "base64Data" })], {}, 30_000);
    await waitFor(() => rig.sim.counters.connections >= 2, "the link to be closed and dialled again");

    const small = await postTasks(rig.socketPath, [imageTask()]);
    expect(small.status).toBe(200);
    expect(small.json!["data"]).toHaveLength(1);
    expect(rig.daemon.engine.stats().upstream.state).not.toBe("closed");

    await rig.daemon.stop("test over");
    const answer = await big;
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.json)).not.toContain("imageBase64Data");
  });
});
