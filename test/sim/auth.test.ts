import { describe, it, expect } from "vitest";
import { randomUUID } from "node:crypto";
import { WsTestClient } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";
import { hasError, imageTask, useSim } from "./harness.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("sim - authentication and keepalive", () => {
  const { start, connect, cleanup } = useSim();

  it("sim - accepts a key and answers with a session UUID as data[0]", async () => {
    const sim = await start();
    const c = await connect(sim);
    const reply = await c.authFrame("test-key");
    expect(reply.errors).toBeUndefined();
    expect(reply.data).toHaveLength(1);
    expect(reply.data![0]).toEqual({ taskType: "authentication", connectionSessionUUID: expect.stringMatching(UUID) });
  });

  it("sim - accepts the websocket on /v1 with the SDK's query string", async () => {
    const sim = await start();
    const c = cleanup.add(await WsTestClient.connect(`${sim.url}?sdk=js&version=1.3.2`), (x) => x.close());
    expect(typeof (await c.authenticate())).toBe("string");
    await expect(WsTestClient.connect(sim.url.replace("/v1", "/v2"))).rejects.toThrow(/404/);
  });

  it("sim - rejects a listed key with Runware's invalidApiKey error and keeps the socket open", async () => {
    const sim = await start({ rejectedKeys: ["revoked-key"] });
    const c = await connect(sim);
    const reply = await c.authFrame("revoked-key");
    expect(reply).toEqual({
      errors: [
        {
          code: "invalidApiKey",
          message: "Invalid API key. Get one at https://my.runware.ai/signup",
          parameter: "apiKey",
          taskType: "authentication",
        },
      ],
    });
    expect(c.isOpen).toBe(true);
    // the same socket can still authenticate with a good key
    expect(typeof (await c.authenticate("test-key"))).toBe("string");
  });

  it("sim - treats an empty or missing key as invalid", async () => {
    const sim = await start();
    const c = await connect(sim);
    expect((await c.authFrame("")).errors?.[0]?.["code"]).toBe("invalidApiKey");
    const from = c.mark();
    c.send([{ taskType: "authentication" }]);
    await c.waitFor(hasError("invalidApiKey"), { from });
  });

  it("sim - closes the socket after an auth failure when closeOnAuthFailure is set", async () => {
    const sim = await start({ closeOnAuthFailure: true, rejectedKeys: ["revoked-key"] });
    const c = await connect(sim);
    await c.authFrame("revoked-key");
    expect((await c.closed).code).toBe(1000);
  });

  it("sim - setRejectedKeys changes which keys are refused", async () => {
    const sim = await start();
    sim.setRejectedKeys(["test-key"]);
    const c = await connect(sim);
    expect((await c.authFrame("test-key")).errors?.[0]?.["code"]).toBe("invalidApiKey");
  });

  it("sim - answers tasks sent before authentication with missingApiKey per task", async () => {
    const sim = await start();
    const c = await connect(sim);
    const a = imageTask();
    const b = imageTask();
    c.send([a, b]);
    const [fa, fb] = await c.waitForMany(hasError("missingApiKey"), 2);
    expect(fa!.errors).toEqual([{ code: "missingApiKey", message: expect.any(String), taskType: "imageInference", taskUUID: a.taskUUID }]);
    expect(fb!.errors![0]!["taskUUID"]).toBe(b.taskUUID);
    expect(sim.counters.received).toEqual({});
  });

  it("sim - answers ping with pong, before and after authentication", async () => {
    const sim = await start();
    const c = await connect(sim);
    c.send([{ taskType: "ping", ping: true }]);
    expect(await c.waitFor((f) => f.data?.[0]?.["taskType"] === "ping")).toEqual({ data: [{ taskType: "ping", pong: true }] });
    await c.authenticate();
    const from = c.mark();
    c.send([{ taskType: "ping", ping: true }]);
    await c.waitFor((f) => f.data?.[0]?.["pong"] === true, { from });
    expect(sim.counters.pings).toBe(2);
  });

  it("sim - closes an idle connection after idleCloseMs, and traffic keeps it open", async () => {
    const sim = await start({ idleCloseMs: 250 });
    const c = await connect(sim);
    const opened = performance.now();
    // keep it busy for well over the idle time
    for (let i = 0; i < 8; i++) {
      c.send([{ taskType: "ping", ping: true }]);
      await c.waitForMany((f) => f.data?.[0]?.["pong"] === true, i + 1);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(c.isOpen).toBe(true);
    const lastTraffic = c.received.at(-1)!.at;
    const closed = await c.closed;
    const closedAt = performance.now();
    expect(closed).toEqual({ code: 1000, reason: "idle timeout" });
    // it outlived two idle periods thanks to the traffic, and closed one idle period after the last frame
    expect(closedAt - opened).toBeGreaterThanOrEqual(2 * 250);
    expect(closedAt - lastTraffic).toBeGreaterThanOrEqual(250 - 10);
  });

  it("sim - delays the auth reply by authDelayMs (setAuthDelay)", async () => {
    const sim = await start();
    sim.setAuthDelay(120);
    const c = await connect(sim);
    const t0 = performance.now();
    await c.authenticate();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it("sim - failNextAuths drop terminates the connection on auth, then auth works again", async () => {
    const sim = await start();
    sim.failNextAuths(1, "drop");
    const c1 = await connect(sim);
    c1.send([{ taskType: "authentication", apiKey: "test-key" }]);
    expect((await c1.closed).code).toBe(1006);
    const c2 = await connect(sim);
    expect(typeof (await c2.authenticate())).toBe("string");
    expect(sim.counters.auths).toHaveLength(1);
  });

  it("sim - failNextAuths error answers internalServerError for the next n auths", async () => {
    const sim = await start();
    sim.failNextAuths(2, "error");
    const c = await connect(sim);
    for (let i = 0; i < 2; i++) {
      const reply = await c.authFrame("test-key");
      expect(reply.errors).toEqual([{ code: "internalServerError", message: expect.any(String), taskType: "authentication" }]);
    }
    expect(typeof (await c.authenticate())).toBe("string");
  });

  it("sim - a fresh session is issued for an unknown connectionSessionUUID, without error", async () => {
    const sim = await start();
    const c = await connect(sim);
    const asked = randomUUID();
    const got = await c.authenticate("test-key", asked);
    expect(got).not.toBe(asked);
    await waitFor(() => sim.counters.auths.length === 1);
    expect(sim.counters.auths[0]).toEqual({ sessionUUID: got, requestedSession: asked, resumed: false });
  });
});
