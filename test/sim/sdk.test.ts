import { describe, it, expect } from "vitest";
import { Runware } from "@runware/sdk-js";
import { waitFor } from "../helpers/wait.js";
import { useSim } from "./harness.js";

// The official SDK as a real client (docs/protocol.md §10.5): it must authenticate against the
// simulator (reading the session from data[0]), send its imageInference, and accept our results.
describe("sim - the official @runware/sdk-js client", () => {
  const { start, cleanup } = useSim();

  it("sim - authenticates @runware/sdk-js and serves it two images", async () => {
    const sim = await start({ workMs: 5 });
    const rw = new Runware({ apiKey: "test-key", url: sim.url, timeoutDuration: 10_000, globalMaxRetries: 1, enableLogging: false });
    cleanup.defer(() => rw.disconnect());
    const images = await rw.requestImages({
      positivePrompt: "a red bicycle",
      model: "runware:101@1",
      width: 512,
      height: 512,
      numberResults: 2,
    });
    expect(images).toHaveLength(2);
    for (const img of images!) {
      expect(img.imageURL?.startsWith(`${sim.httpUrl}/image/`)).toBe(true);
      expect(typeof img.seed).toBe("number");
    }
    expect(new Set(images!.map((i) => i.imageUUID)).size).toBe(2);
    const counters = sim.counters;
    expect(counters.auths).toHaveLength(1);
    expect(Object.values(counters.received)).toEqual([1]);
    const png = await fetch(images![0]!.imageURL!);
    expect(png.headers.get("content-type")).toBe("image/png");
    await rw.disconnect();
    await waitFor(() => sim.counters.open === 0, "the SDK to disconnect");
  });

  it("sim - the SDK's initialize() rejects a key the simulator refuses", async () => {
    const sim = await start({ rejectedKeys: ["revoked-key"] });
    const rw = new Runware({ apiKey: "revoked-key", url: sim.url, shouldReconnect: false });
    cleanup.defer(() => rw.disconnect());
    await expect(rw.ensureConnection()).rejects.toMatchObject({ error: { code: "invalidApiKey" } });
    expect(sim.counters.auths).toEqual([]);
  });
});
