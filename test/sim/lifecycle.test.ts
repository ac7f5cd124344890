import { describe, it, expect } from "vitest";
import { SimServer } from "../../src/sim/index.js";
import { Rng } from "../../src/sim/rng.js";
import { planFrames } from "../../src/sim/schedule.js";
import { WsTestClient } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";
import { imageTask } from "./harness.js";

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("sim - lifecycle", () => {
  it("sim - close() ends every connection and leaves no timer behind, even with work in flight", async () => {
    const before = timeouts();
    const sim = await SimServer.start({ workMs: 60_000, idleCloseMs: 60_000, resumeBufferMs: 60_000, coalesceMs: 60_000 });
    const c1 = await WsTestClient.connect(sim.url);
    const c2 = await WsTestClient.connect(sim.url);
    await c1.authenticate();
    c1.send([imageTask({ numberResults: 5 }), imageTask({ deliveryMethod: "async" })]);
    await waitFor(() => sim.counters.outstanding === 2);
    sim.freeze();
    c2.send([{ taskType: "ping", ping: true }]);
    await sim.close();
    expect((await c1.closed).code).toBe(1006);
    expect((await c2.closed).code).toBe(1006);
    expect(timeouts()).toBeLessThanOrEqual(before);
    await expect(WsTestClient.connect(sim.url)).rejects.toThrow();
    // idempotent
    await sim.close();
  });

  it("sim - refuses invalid durations at start and in setters", async () => {
    await expect(SimServer.start({ workMs: -1 })).rejects.toThrow(/workMs/);
    const sim = await SimServer.start();
    try {
      expect(() => sim.setLatency(Number.NaN)).toThrow(/latencyMs/);
      expect(() => sim.injectErrors({ code: "timeoutProvider", rate: 2 })).toThrow(/rate/);
    } finally {
      await sim.close();
    }
  });
});

describe("sim - frame planning", () => {
  it("sim - every split covers each item exactly once, in order, finishing by workMs", () => {
    const rng = new Rng(7);
    for (const split of ["random", "single", "each"] as const) {
      for (let n = 1; n <= 20; n++) {
        const groups = planFrames(n, split, rng, 100);
        expect(groups.flatMap((g) => g.indices)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(groups.at(-1)!.at).toBe(100);
        expect(groups.every((g, i) => i === 0 || g.at > groups[i - 1]!.at)).toBe(true);
        if (split === "single") expect(groups).toHaveLength(1);
        if (split === "each") expect(groups).toHaveLength(n);
      }
    }
  });

  it("sim - the same seed gives the same random splits", () => {
    const a = new Rng(99);
    const b = new Rng(99);
    const plan = (r: Rng) => Array.from({ length: 10 }, () => planFrames(8, "random", r, 50).map((g) => g.indices.length));
    expect(plan(a)).toEqual(plan(b));
  });
});
