import { describe, it, expect } from "vitest";
import { imageTask, hasError, useSim } from "./harness.js";
import type { Obj } from "../helpers/ws-client.js";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.toString("latin1", 12, 16)).toBe("IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe("sim - imageInference", () => {
  const { start, authed } = useSim();

  it("sim - delivers numberResults items with distinct imageUUIDs, consecutive seeds and fetchable PNG URLs", async () => {
    const sim = await start();
    const c = await authed(sim);
    const task = imageTask({ numberResults: 3, seed: 1234, width: 256, height: 192 });
    c.send([task]);
    const items = await c.itemsFor(task.taskUUID, 3);
    expect(items).toHaveLength(3);
    expect(new Set(items.map((i) => i["imageUUID"])).size).toBe(3);
    expect(items.map((i) => Number(i["seed"])).sort((a, b) => a - b)).toEqual([1234, 1235, 1236]);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(["imageURL", "imageUUID", "seed", "taskType", "taskUUID"]);
      expect(item["taskType"]).toBe("imageInference");
      expect(item["imageURL"]).toBe(`${sim.httpUrl}/image/${item["imageUUID"]}.png`);
    }
    const res = await fetch(items[0]!["imageURL"] as string);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(pngSize(Buffer.from(await res.arrayBuffer()))).toEqual({ width: 256, height: 192 });
    expect((await fetch(`${sim.httpUrl}/image/00000000-0000-4000-8000-000000000000.png`)).status).toBe(404);
  });

  it("sim - draws a random 32-bit seed and increments it per image when none is given", async () => {
    const sim = await start();
    const c = await authed(sim);
    const task = imageTask({ numberResults: 2 });
    c.send([task]);
    const seeds = (await c.itemsFor(task.taskUUID, 2)).map((i) => i["seed"] as number).sort((a, b) => a - b);
    expect(Number.isInteger(seeds[0])).toBe(true);
    expect(seeds[0]).toBeGreaterThanOrEqual(1);
    expect(seeds[0]).toBeLessThanOrEqual(0xffffffff);
    expect(seeds[1]).toBe(seeds[0]! + 1);
  });

  it("sim - renders base64Data and dataURI outputs eagerly as real PNGs", async () => {
    const sim = await start();
    const c = await authed(sim);
    const b64 = imageTask({ outputType: "base64Data", width: 128, height: 256 });
    const uri = imageTask({ outputType: "dataURI", width: 192, height: 128 });
    c.send([b64, uri]);
    const [b] = await c.itemsFor(b64.taskUUID, 1);
    const [u] = await c.itemsFor(uri.taskUUID, 1);
    expect(b!["imageURL"]).toBeUndefined();
    expect(pngSize(Buffer.from(b!["imageBase64Data"] as string, "base64"))).toEqual({ width: 128, height: 256 });
    const dataURI = u!["imageDataURI"] as string;
    expect(dataURI.startsWith("data:image/png;base64,")).toBe(true);
    expect(pngSize(Buffer.from(dataURI.slice("data:image/png;base64,".length), "base64"))).toEqual({ width: 192, height: 128 });
  });

  it("sim - base64ResultChars pads base64Data and dataURI images to that length, URL outputs untouched", async () => {
    const chars = 300_000;
    const sim = await start({ base64ResultChars: chars });
    const c = await authed(sim);
    const b64 = imageTask({ outputType: "base64Data", width: 128, height: 192, numberResults: 2 });
    const uri = imageTask({ outputType: "dataURI", width: 128, height: 128 });
    const url = imageTask({ width: 128, height: 128 });
    c.send([b64, uri, url]);
    const prefix = "data:image/png;base64,";
    const images = [
      ...(await c.itemsFor(b64.taskUUID, 2)).map((i) => i["imageBase64Data"] as string),
      ...(await c.itemsFor(uri.taskUUID, 1)).map((i) => (i["imageDataURI"] as string).slice(prefix.length)),
    ];
    for (const image of images) {
      expect(image.length).toBeGreaterThanOrEqual(chars);
      expect(image.length).toBeLessThanOrEqual(chars + 3);
    }
    expect(images.map((i) => pngSize(Buffer.from(i, "base64")))).toEqual([
      { width: 128, height: 192 },
      { width: 128, height: 192 },
      { width: 128, height: 128 },
    ]);
    const [u] = await c.itemsFor(url.taskUUID, 1);
    expect(u!["imageURL"]).toBe(`${sim.httpUrl}/image/${u!["imageUUID"]}.png`);
  });

  it("sim - base64ResultChars must be a whole number of characters, not negative", async () => {
    await expect(start({ base64ResultChars: -1 })).rejects.toThrow(RangeError);
    await expect(start({ base64ResultChars: 1.5 })).rejects.toThrow(RangeError);
  });

  it("sim - renders the same picture for the same prompt and seed", async () => {
    const sim = await start();
    const c = await authed(sim);
    const a = imageTask({ outputType: "base64Data", seed: 7, width: 128, height: 128 });
    const b = imageTask({ outputType: "base64Data", seed: 7, width: 128, height: 128 });
    const other = imageTask({ outputType: "base64Data", seed: 8, width: 128, height: 128 });
    c.send([a, b, other]);
    const [ia] = await c.itemsFor(a.taskUUID, 1);
    const [ib] = await c.itemsFor(b.taskUUID, 1);
    const [io] = await c.itemsFor(other.taskUUID, 1);
    expect(ia!["imageBase64Data"]).toBe(ib!["imageBase64Data"]);
    expect(io!["imageBase64Data"]).not.toBe(ia!["imageBase64Data"]);
  });

  it("sim - adds cost only with includeCost and NSFWContent only with a safety check", async () => {
    const sim = await start();
    const c = await authed(sim);
    const plain = imageTask();
    const costed = imageTask({ includeCost: true });
    const safety = imageTask({ safety: { checkContent: true } });
    const legacy = imageTask({ checkNSFW: true });
    c.send([plain, costed, safety, legacy]);
    const [p] = await c.itemsFor(plain.taskUUID, 1);
    const [k] = await c.itemsFor(costed.taskUUID, 1);
    const [s] = await c.itemsFor(safety.taskUUID, 1);
    const [l] = await c.itemsFor(legacy.taskUUID, 1);
    expect(p).not.toHaveProperty("cost");
    expect(p).not.toHaveProperty("NSFWContent");
    expect(k!["cost"]).toBeGreaterThan(0);
    expect(s!["NSFWContent"]).toBe(false);
    expect(l!["NSFWContent"]).toBe(false);
    expect(s).not.toHaveProperty("cost");
  });

  const invalid: Array<[string, Record<string, unknown>, string, string]> = [
    ["no model", { model: undefined }, "missingModel", "model"],
    ["a model that is not an AIR", { model: "flux" }, "invalidModel", "model"],
    ["no prompt", { positivePrompt: undefined }, "missingPositivePrompt", "positivePrompt"],
    ["a 1-char prompt", { positivePrompt: "a" }, "invalidPositivePrompt", "positivePrompt"],
    ["a 3001-char prompt", { positivePrompt: "a".repeat(3001) }, "invalidPositivePrompt", "positivePrompt"],
    ["a 1-char negative prompt", { negativePrompt: "x" }, "invalidNegativePrompt", "negativePrompt"],
    ["no width", { width: undefined }, "missingWidth", "width"],
    ["no height", { height: undefined }, "missingHeight", "height"],
    ["width below 128", { width: 64 }, "invalidWidth", "width"],
    ["width above 2048", { width: 2112 }, "invalidWidth", "width"],
    ["width not a multiple of 64", { width: 500 }, "invalidWidth", "width"],
    ["height not a multiple of 64", { height: 520 }, "invalidHeight", "height"],
    ["numberResults 0", { numberResults: 0 }, "invalidNumberResults", "numberResults"],
    ["numberResults 21", { numberResults: 21 }, "invalidNumberResults", "numberResults"],
    ["steps 0", { steps: 0 }, "invalidSteps", "steps"],
    ["steps 101", { steps: 101 }, "invalidSteps", "steps"],
    ["CFGScale 51", { CFGScale: 51 }, "invalidCFGScale", "CFGScale"],
    ["a fractional seed", { seed: 1.5 }, "invalidSeed", "seed"],
    ["seed 0", { seed: 0 }, "invalidSeed", "seed"],
    ["an unknown outputType", { outputType: "file" }, "invalidOutputType", "outputType"],
    ["an unknown outputFormat", { outputFormat: "GIF" }, "invalidOutputFormat", "outputFormat"],
    ["outputQuality 100", { outputQuality: 100 }, "invalidOutputQuality", "outputQuality"],
    ["an unknown deliveryMethod", { deliveryMethod: "carrier-pigeon" }, "invalidDeliveryMethod", "deliveryMethod"],
  ];
  it.each(invalid)("sim - refuses %s with %s", async (_what, patch, code, parameter) => {
    const sim = await start();
    const c = await authed(sim);
    const task = imageTask(patch);
    c.send([task]);
    const err = await c.errorFor(task.taskUUID);
    expect(err).toEqual({ code, message: expect.any(String), parameter, taskType: "imageInference", taskUUID: task.taskUUID });
    expect(c.items(task.taskUUID)).toEqual([]);
  });

  it("sim - accepts the documented edges (128/2048 sides, 20 results, int64 max seed, lowercase outputFormat)", async () => {
    const sim = await start();
    const c = await authed(sim);
    const task = imageTask({
      width: 128,
      height: 2048,
      numberResults: 20,
      steps: 100,
      outputFormat: "png",
      positivePrompt: "ab",
      seed: 2 ** 63, // int64 max, 9223372036854775807, as JSON.parse reads it
    });
    c.send([task]);
    expect(await c.itemsFor(task.taskUUID, 20)).toHaveLength(20);
    expect(c.errors(task.taskUUID)).toEqual([]);
  });

  it("sim - runs the valid tasks of a frame when another task in it is invalid (partial success)", async () => {
    const sim = await start();
    const c = await authed(sim);
    const good1 = imageTask();
    const bad = imageTask({ width: 100 });
    const good2 = imageTask({ numberResults: 2 });
    c.send([good1, bad, good2]);
    await c.itemsFor(good1.taskUUID, 1);
    await c.itemsFor(good2.taskUUID, 2);
    expect((await c.errorFor(bad.taskUUID))["code"]).toBe("invalidWidth");
    expect(c.errors(good1.taskUUID)).toEqual([]);
  });

  it("sim - split 'each' sends one frame per item and 'single' one frame for all", async () => {
    const each = await start({ split: "each" });
    const c1 = await authed(each);
    const t1 = imageTask({ numberResults: 4 });
    c1.send([t1]);
    await c1.itemsFor(t1.taskUUID, 4);
    expect(c1.frames.filter((f) => f.data?.some((i) => i["taskUUID"] === t1.taskUUID)).map((f) => f.data!.length)).toEqual([1, 1, 1, 1]);

    const single = await start({ split: "single" });
    const c2 = await authed(single);
    const t2 = imageTask({ numberResults: 4 });
    c2.send([t2]);
    await c2.itemsFor(t2.taskUUID, 4);
    expect(c2.frames.filter((f) => f.data?.some((i) => i["taskUUID"] === t2.taskUUID)).map((f) => f.data!.length)).toEqual([4]);
  });

  it("sim - split 'random' spreads items over a varying number of frames, at different moments", async () => {
    const sim = await start({ split: "random", workMs: 40 });
    const c = await authed(sim);
    const tasks = Array.from({ length: 12 }, () => imageTask({ numberResults: 6 }));
    c.send(tasks);
    const frameCounts = new Set<number>();
    for (const t of tasks) {
      await c.itemsFor(t.taskUUID, 6);
      const frames = c.received.filter((r) => r.frame.data?.some((i) => i["taskUUID"] === t.taskUUID));
      frameCounts.add(frames.length);
      if (frames.length > 1) expect(frames.at(-1)!.at).toBeGreaterThan(frames[0]!.at);
    }
    expect(frameCounts.size).toBeGreaterThan(1);
  });

  it("sim - coalesces outputs of different tasks produced within coalesceMs into one frame", async () => {
    const sim = await start({ coalesceMs: 30, split: "single" });
    const c = await authed(sim);
    const a = imageTask();
    const b = imageTask();
    c.send([a, b]);
    await c.itemsFor(a.taskUUID, 1);
    await c.itemsFor(b.taskUUID, 1);
    const mixed = c.frames.find((f) => new Set((f.data ?? []).map((i: Obj) => i["taskUUID"])).size === 2);
    expect(mixed?.data).toHaveLength(2);
  });

  it("sim - without coalescing, a frame never mixes tasks", async () => {
    const sim = await start({ split: "random" });
    const c = await authed(sim);
    const tasks = Array.from({ length: 5 }, () => imageTask({ numberResults: 3 }));
    c.send(tasks);
    for (const t of tasks) await c.itemsFor(t.taskUUID, 3);
    for (const f of c.frames.slice(1)) expect(new Set((f.data ?? []).map((i) => i["taskUUID"])).size).toBe(1);
  });

  it("sim - setWorkTime changes how long new tasks take", async () => {
    const sim = await start({ workMs: 5 });
    sim.setWorkTime(150);
    const c = await authed(sim);
    const task = imageTask();
    const t0 = performance.now();
    c.send([task]);
    await c.itemsFor(task.taskUUID, 1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("sim - answers a frame that is not a JSON array with an error and keeps the connection", async () => {
    const sim = await start();
    const c = await authed(sim);
    c.sendRaw("not json at all");
    const notJson = await c.waitFor(hasError("invalidRequestBody"));
    expect(notJson.errors).toEqual([expect.objectContaining({ code: "invalidRequestBody", message: expect.any(String) })]);
    const from = c.mark();
    c.send({ taskType: "ping", ping: true });
    const notArray = await c.waitFor(hasError("invalidRequestBody"), { from });
    expect(notArray.errors).toHaveLength(1);
    const task = imageTask();
    c.send([task]);
    expect(await c.itemsFor(task.taskUUID, 1)).toHaveLength(1);
  });
});
