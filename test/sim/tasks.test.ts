import { describe, it, expect } from "vitest";
import { randomUUID } from "node:crypto";
import { CATALOGUE } from "../../src/sim/index.js";
import type { WsTestClient, Obj } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";
import { imageTask, modelUploadTask, useSim } from "./harness.js";

async function search(c: WsTestClient, params: Record<string, unknown>): Promise<Obj> {
  const taskUUID = randomUUID();
  c.send([{ taskType: "modelSearch", taskUUID, ...params }]);
  const [item] = await c.itemsFor(taskUUID, 1);
  return item!;
}

describe("sim - modelSearch", () => {
  const { start, authed } = useSim();

  it("sim - returns one item with a page of results and totalResults, default limit 20", async () => {
    const sim = await start();
    const c = await authed(sim);
    const all = await search(c, {});
    expect(all["taskType"]).toBe("modelSearch");
    expect(all["totalResults"]).toBe(CATALOGUE.length);
    expect(all["results"]).toHaveLength(Math.min(20, CATALOGUE.length));
    const flux = all["results"].find((m: Obj) => m["air"] === "runware:101@1");
    expect(flux).toMatchObject({
      name: "FLUX.1 [dev]",
      category: "checkpoint",
      architecture: "flux1d",
      type: "base",
      private: false,
      defaultWidth: 1024,
    });
    const hero = await fetch(flux.heroImage);
    expect(hero.headers.get("content-type")).toBe("image/png");
  });

  it("sim - pages with limit and offset while totalResults counts every match", async () => {
    const sim = await start();
    const c = await authed(sim);
    const pages: Obj[] = [];
    for (let offset = 0; offset < CATALOGUE.length; offset += 5) pages.push(await search(c, { limit: 5, offset }));
    const airs = pages.flatMap((p) => p["results"]).map((m: Obj) => m["air"]);
    expect(pages[0]!["results"]).toHaveLength(5);
    expect(new Set(airs).size).toBe(CATALOGUE.length);
    expect(pages.every((p) => p["totalResults"] === CATALOGUE.length)).toBe(true);
    expect((await search(c, { offset: 500 }))["results"]).toEqual([]);
  });

  it("sim - filters by search text (name, air, version, tags; case-insensitive), category, type, architecture and tags (video and audio models too)", async () => {
    const sim = await start();
    const c = await authed(sim);
    const airs = (p: Obj) => p["results"].map((m: Obj) => m["air"]).sort();
    expect(airs(await search(c, { search: "DREAMSHAPER" }))).toEqual(["civitai:4384@128713", "civitai:4384@131004"]);
    expect(airs(await search(c, { search: "runware:100" }))).toEqual(["runware:100@1"]);
    expect(airs(await search(c, { search: "inpainting" }))).toEqual(["civitai:4384@131004"]);
    expect(airs(await search(c, { category: "lora" }))).toEqual(["civitai:58390@62833", "civitai:631986@706528"]);
    expect(airs(await search(c, { category: "checkpoint", type: "inpainting" }))).toEqual(["civitai:4384@131004"]);
    expect(airs(await search(c, { architecture: "flux1d" }))).toEqual(["civitai:631986@706528", "runware:101@1"]);
    expect(airs(await search(c, { tags: ["anime", "nope"] }))).toEqual(["civitai:257749@290640", "civitai:4384@128713"]);
    expect(airs(await search(c, { tags: ["video"] }))).toEqual(["google:3@3", "klingai:5@3", "minimax:3@1"]);
    expect(airs(await search(c, { tags: ["audio"] }))).toEqual(["elevenlabs:1@1", "minimax:music@2.6"]);
    const none = await search(c, { search: "no such model" });
    expect(none["results"]).toEqual([]);
    expect(none["totalResults"]).toBe(0);
  });

  it.each([
    [{ limit: 0 }, "invalidLimit"],
    [{ limit: 101 }, "invalidLimit"],
    [{ offset: -1 }, "invalidOffset"],
    [{ tags: "anime" }, "invalidTags"],
  ])("sim - refuses modelSearch %j with %s", async (params, code) => {
    const sim = await start();
    const c = await authed(sim);
    const taskUUID = randomUUID();
    c.send([{ taskType: "modelSearch", taskUUID, ...params }]);
    expect(await c.errorFor(taskUUID)).toMatchObject({ code, taskType: "modelSearch", taskUUID });
  });
});

describe("sim - other task types", () => {
  const { start, authed } = useSim();

  it("sim - promptEnhance sends promptVersions items, each at most promptMaxLength and derived from the prompt", async () => {
    const sim = await start();
    const c = await authed(sim);
    const taskUUID = randomUUID();
    c.send([{ taskType: "promptEnhance", taskUUID, prompt: "a red fox in snow", promptVersions: 3, promptMaxLength: 40 }]);
    const items = await c.itemsFor(taskUUID, 3);
    expect(items).toHaveLength(3);
    for (const i of items) {
      expect(Object.keys(i).sort()).toEqual(["taskType", "taskUUID", "text"]);
      expect((i["text"] as string).length).toBeLessThanOrEqual(40);
      expect(i["text"]).toMatch(/^a red fox in snow/);
    }
    // deterministic: the same request gives the same texts
    const again = randomUUID();
    c.send([{ taskType: "promptEnhance", taskUUID: again, prompt: "a red fox in snow", promptVersions: 3, promptMaxLength: 40 }]);
    const texts = (await c.itemsFor(again, 3)).map((i) => String(i["text"])).sort();
    expect(texts).toEqual(items.map((i) => String(i["text"])).sort());
  });

  it("sim - promptEnhance defaults to one version and validates its ranges", async () => {
    const sim = await start();
    const c = await authed(sim);
    const one = randomUUID();
    c.send([{ taskType: "promptEnhance", taskUUID: one, prompt: "castle" }]);
    await c.itemsFor(one, 1);
    for (const [params, code] of [
      [{}, "missingPrompt"],
      [{ prompt: "x".repeat(301) }, "invalidPrompt"],
      [{ prompt: "castle", promptMaxLength: 11 }, "invalidPromptMaxLength"],
      [{ prompt: "castle", promptVersions: 6 }, "invalidPromptVersions"],
    ] as const) {
      const taskUUID = randomUUID();
      c.send([{ taskType: "promptEnhance", taskUUID, ...params }]);
      expect((await c.errorFor(taskUUID))["code"]).toBe(code);
    }
    await waitFor(() => sim.counters.outstanding === 0);
    expect(c.items(one)).toHaveLength(1);
  });

  it("sim - imageUpload answers with a fresh imageUUID and an imageURL serving the bytes sent", async () => {
    const sim = await start();
    const c = await authed(sim);
    const taskUUID = randomUUID();
    c.send([{ taskType: "imageUpload", taskUUID, image: "data:image/png;base64,iVBORw0KGgo=" }]);
    const [item] = await c.itemsFor(taskUUID, 1);
    expect(item).toEqual({
      taskType: "imageUpload",
      taskUUID,
      imageUUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
      imageURL: expect.stringMatching(/\/image\/[0-9a-f-]{36}\.png$/),
    });
    const served = await fetch(item!["imageURL"]);
    expect(Buffer.from(await served.arrayBuffer()).toString("base64")).toBe("iVBORw0KGgo=");
    const bad = randomUUID();
    c.send([{ taskType: "imageUpload", taskUUID: bad }]);
    expect((await c.errorFor(bad))["code"]).toBe("missingImage");
  });

  it("sim - modelUpload streams validated, downloaded, optimized, stored, ready, one frame each", async () => {
    const sim = await start({ split: "single" });
    const c = await authed(sim);
    const taskUUID = randomUUID();
    c.send([modelUploadTask({ taskUUID })]);
    const items = await c.itemsFor(taskUUID, 5);
    expect(items.map((i) => i["status"])).toEqual(["validated", "downloaded", "optimized", "stored", "ready"]);
    expect(c.frames.filter((f) => f.data?.some((i) => i["taskUUID"] === taskUUID)).every((f) => f.data!.length === 1)).toBe(true);
  });

  it("sim - answers an unknown taskType with unsupportedTaskType", async () => {
    const sim = await start();
    const c = await authed(sim);
    const taskUUID = randomUUID();
    c.send([{ taskType: "teleport", taskUUID }]);
    expect(await c.errorFor(taskUUID)).toEqual({
      code: "unsupportedTaskType",
      message: expect.any(String),
      parameter: "taskType",
      taskType: "teleport",
      taskUUID,
    });
  });

  it("sim - requires a UUID taskUUID on non-protocol tasks", async () => {
    const sim = await start();
    const c = await authed(sim);
    c.send([imageTask({ taskUUID: undefined })]);
    await c.waitFor((f) => f.errors?.[0]?.["code"] === "missingTaskUUID");
    c.send([imageTask({ taskUUID: "not-a-uuid" })]);
    const f = await c.waitFor((fr) => fr.errors?.[0]?.["code"] === "invalidTaskUUID");
    expect(f.errors![0]).toMatchObject({ parameter: "taskUUID", taskType: "imageInference", taskUUID: "not-a-uuid" });
  });
});

describe("sim - taskUUID registry", () => {
  const { start, authed } = useSim();

  it("sim - refuses a taskUUID that is still processing with conflictTaskUUID and never runs it twice", async () => {
    const sim = await start({ workMs: 100 });
    const c = await authed(sim);
    const task = imageTask({ numberResults: 2 });
    c.send([task]);
    c.send([task]);
    const err = await c.errorFor(task.taskUUID);
    expect(err).toMatchObject({ code: "conflictTaskUUID", parameter: "taskUUID", taskType: "imageInference", taskUUID: task.taskUUID });
    expect(err["message"]).toMatch(/in use/);
    await c.itemsFor(task.taskUUID, 2);
    await waitFor(() => sim.counters.outstanding === 0);
    expect(c.items(task.taskUUID)).toHaveLength(2);
    expect(sim.counters.received[task.taskUUID]).toBe(2);
    expect(sim.counters.conflicts).toBe(1);
  });

  it("sim - refuses a taskUUID that already succeeded, even from another session", async () => {
    const sim = await start();
    const c1 = await authed(sim);
    const task = imageTask();
    c1.send([task]);
    await c1.itemsFor(task.taskUUID, 1);
    const c2 = await authed(sim);
    c2.send([task]);
    expect((await c2.errorFor(task.taskUUID))["code"]).toBe("conflictTaskUUID");
    expect(c2.items(task.taskUUID)).toEqual([]);
  });

  it("sim - lets a failed task be resubmitted with the same taskUUID", async () => {
    const sim = await start();
    sim.injectErrors({ code: "timeoutProvider", count: 1 });
    const c = await authed(sim);
    const task = imageTask();
    c.send([task]);
    expect((await c.errorFor(task.taskUUID))["code"]).toBe("timeoutProvider");
    c.send([task]);
    const [item] = await c.itemsFor(task.taskUUID, 1);
    expect(item!["imageUUID"]).toBeDefined();
    expect(sim.counters.received[task.taskUUID]).toBe(2);
    expect(sim.counters.conflicts).toBe(0);
  });

  it("sim - lets an invalid task be resubmitted, corrected, with the same taskUUID", async () => {
    const sim = await start();
    const c = await authed(sim);
    const task = imageTask({ width: 100 });
    c.send([task]);
    expect((await c.errorFor(task.taskUUID))["code"]).toBe("invalidWidth");
    c.send([{ ...task, width: 512 }]);
    await c.itemsFor(task.taskUUID, 1);
  });
});
