import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { WsTestClient, Obj } from "../helpers/ws-client.js";
import { getResponse, imageTask, modelUploadTask, useSim } from "./harness.js";

const PNG_8 = "data:image/png;base64,iVBORw0KGgo=";

async function one(c: WsTestClient, task: Obj): Promise<Obj> {
  const taskUUID = randomUUID();
  c.send([{ ...task, taskUUID }]);
  const [item] = await c.itemsFor(taskUUID, 1);
  return item!;
}

async function refused(c: WsTestClient, task: Obj): Promise<Obj> {
  const taskUUID = randomUUID();
  c.send([{ ...task, taskUUID }]);
  return c.errorFor(taskUUID);
}

const pngSize = (b: Buffer) => ({ width: b.readUInt32BE(16), height: b.readUInt32BE(20) });

describe("sim - image inputs", () => {
  const { start, authed } = useSim();

  it("sim - an uploaded imageUUID is accepted as seedImage and in referenceImages; an unknown UUID is refused naming the field", async () => {
    const sim = await start();
    const c = await authed(sim);
    const { imageUUID } = await one(c, { taskType: "imageUpload", image: PNG_8 });
    const seeded = await one(c, imageTask({ seedImage: imageUUID, referenceImages: [imageUUID] }));
    expect(seeded["imageURL"]).toMatch(/^http:/);
    const unknown = randomUUID();
    expect(await refused(c, imageTask({ seedImage: unknown }))).toMatchObject({ code: "invalidSeedImage", parameter: "seedImage" });
    expect(await refused(c, imageTask({ referenceImages: [imageUUID, unknown] }))).toMatchObject({
      code: "invalidReferenceImages",
      parameter: "referenceImages",
    });
    expect(await refused(c, imageTask({ seedImage: "not an image" }))).toMatchObject({ code: "invalidSeedImage" });
  });

  it("sim - a generated image's UUID is a valid input too, whatever its output type", async () => {
    const sim = await start();
    const c = await authed(sim);
    const made = await one(c, imageTask({ outputType: "base64Data" }));
    const seeded = await one(c, imageTask({ seedImage: made["imageUUID"] }));
    expect(seeded["imageUUID"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("sim - image tools", () => {
  const { start, authed } = useSim();

  it("sim - upscale multiplies the input's size by upscaleFactor, capped at 2048, and answers inputImageUUID", async () => {
    const sim = await start();
    const c = await authed(sim);
    const made = await one(c, imageTask({ width: 512, height: 768 }));
    for (const taskType of ["upscale", "imageUpscale"]) {
      const up = await one(c, { taskType, inputImage: made["imageUUID"], upscaleFactor: 2 });
      expect(up).toMatchObject({ taskType, inputImageUUID: made["imageUUID"], imageURL: expect.stringMatching(/\.png$/) });
      expect(pngSize(Buffer.from(await (await fetch(up["imageURL"])).arrayBuffer()))).toEqual({ width: 1024, height: 1536 });
    }
    const big = await one(c, { taskType: "upscale", inputs: { image: made["imageUUID"] }, upscaleFactor: 4 });
    expect(pngSize(Buffer.from(await (await fetch(big["imageURL"])).arrayBuffer()))).toEqual({ width: 2048, height: 2048 });
    expect(await refused(c, { taskType: "upscale", inputImage: made["imageUUID"] })).toMatchObject({ code: "missingUpscaleFactor" });
    expect(await refused(c, { taskType: "upscale", inputImage: made["imageUUID"], upscaleFactor: 5 })).toMatchObject({
      code: "invalidUpscaleFactor",
    });
    expect(await refused(c, { taskType: "upscale", upscaleFactor: 2 })).toMatchObject({ code: "missingInputImage" });
  });

  it("sim - removeBackground answers a new image with inputImageUUID; a data URI input gets a fresh inputImageUUID", async () => {
    const sim = await start();
    const c = await authed(sim);
    for (const taskType of ["removeBackground", "imageBackgroundRemoval"]) {
      const out = await one(c, { taskType, inputImage: PNG_8, outputType: "dataURI", includeCost: true });
      expect(out).toMatchObject({
        taskType,
        imageUUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
        inputImageUUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
        imageDataURI: expect.stringMatching(/^data:image\/png;base64,/),
        cost: expect.any(Number),
      });
      expect(out["inputImageUUID"]).not.toBe(out["imageUUID"]);
    }
  });

  it("sim - caption describes the input image as text", async () => {
    const sim = await start();
    const c = await authed(sim);
    const made = await one(c, imageTask({ positivePrompt: "a red bicycle" }));
    for (const taskType of ["caption", "imageCaption"]) {
      const out = await one(c, { taskType, inputImage: made["imageUUID"] });
      expect(out).toEqual({
        taskType,
        taskUUID: expect.any(String),
        text: "a picture of a red bicycle",
        inputImageUUID: made["imageUUID"],
      });
    }
  });
});

describe("sim - text, account, storage and model uploads", () => {
  const { start, authed } = useSim();

  it("sim - textInference answers numberResults texts under one taskUUID, with usage and cost when asked", async () => {
    const sim = await start();
    const c = await authed(sim);
    const taskUUID = randomUUID();
    const messages = [{ role: "user", content: "Name a colour." }];
    c.send([
      {
        taskType: "textInference",
        taskUUID,
        model: "openai:gpt@5-mini",
        messages,
        numberResults: 3,
        includeUsage: true,
        includeCost: true,
      },
    ]);
    const items = await c.itemsFor(taskUUID, 3);
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(item).toMatchObject({ text: expect.stringContaining("Name a colour."), finishReason: "stop", cost: expect.any(Number) });
      expect(item["usage"]).toMatchObject({ promptTokens: expect.any(Number), totalTokens: expect.any(Number) });
    }
    expect(await refused(c, { taskType: "textInference", model: "openai:gpt@5-mini" })).toMatchObject({ code: "missingMessages" });
    expect(await refused(c, { taskType: "textInference", model: "openai:gpt@5-mini", messages, numberResults: 9 })).toMatchObject({
      code: "invalidNumberResults",
    });
    expect(await refused(c, { taskType: "textInference", model: "openai:gpt@5-mini", messages, deliveryMethod: "stream" })).toMatchObject({
      code: "invalidDeliveryMethod",
    });
  });

  it("sim - accountManagement getDetails reports a balance that finished work lowers by its cost; setBalance sets it", async () => {
    const sim = await start();
    const c = await authed(sim);
    const before = await one(c, { taskType: "accountManagement", operation: "getDetails" });
    expect(before).toMatchObject({
      operation: "getDetails",
      balance: { amount: 100, currency: "USD" },
      organizationUUID: expect.any(String),
    });
    const costs = await Promise.all([1, 2].map(() => one(c, imageTask({ includeCost: true }))));
    // Charged whether or not the request shows the cost.
    await one(c, imageTask());
    const after = await one(c, { taskType: "accountManagement", operation: "getDetails" });
    const spent = costs.reduce((sum, item) => sum + Number(item["cost"]), 0) * 1.5;
    expect((after["balance"] as Obj)["amount"]).toBeCloseTo(100 - spent, 6);
    expect((after["usage"] as Obj)["today"]).toMatchObject({ requests: 3 });
    sim.setBalance(0.5);
    expect(await one(c, { taskType: "accountManagement", operation: "getDetails" })).toMatchObject({ balance: { amount: 0.5 } });
    expect(await refused(c, { taskType: "accountManagement", operation: "explode" })).toMatchObject({ code: "invalidOperation" });
  });

  it("sim - mediaStorage uploads media (served at mediaURL, usable as an input) and deletes it; deleting unknown media fails", async () => {
    const sim = await start();
    const c = await authed(sim);
    const wav = Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from("WAVEfmt "), Buffer.alloc(20)]);
    const up = await one(c, { taskType: "mediaStorage", operation: "upload", media: wav.toString("base64") });
    expect(up).toMatchObject({
      operation: "upload",
      mediaUUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
      mediaURL: expect.stringMatching(/\/media\/.+\.wav$/),
    });
    const served = await fetch(up["mediaURL"]);
    expect(served.headers.get("content-type")).toBe("audio/wav");
    expect(Buffer.from(await served.arrayBuffer()).equals(wav)).toBe(true);
    const gone = await one(c, { taskType: "mediaStorage", operation: "delete", mediaUUID: up["mediaUUID"] });
    expect(gone).toMatchObject({ operation: "delete", mediaUUID: up["mediaUUID"] });
    expect((await fetch(up["mediaURL"])).status).toBe(404);
    expect(await refused(c, { taskType: "mediaStorage", operation: "delete", mediaUUID: up["mediaUUID"] })).toMatchObject({
      code: "invalidMediaUUID",
    });
    expect(await refused(c, { taskType: "mediaStorage", operation: "upload" })).toMatchObject({ code: "missingMedia" });
  });

  it("sim - modelUpload needs its real fields, can end on a failure status, and is unknown to getResponse", async () => {
    const sim = await start({ split: "single" });
    const c = await authed(sim);
    const { category: _omit, ...noCategory } = modelUploadTask();
    expect(await refused(c, noCategory)).toMatchObject({ code: "missingCategory" });
    expect(await refused(c, modelUploadTask({ format: "ckpt" }))).toMatchObject({ code: "invalidFormat" });
    sim.failModelUploads({ status: "error downloading", message: "the download URL answered 404" });
    const failing = modelUploadTask();
    c.send([failing]);
    const items = await c.itemsFor(failing.taskUUID, 2);
    expect(items.map((i) => i["status"])).toEqual(["validated", "error downloading"]);
    expect(items[1]).toMatchObject({ message: "the download URL answered 404", air: failing["air"] });
    expect((await getResponse(c, failing.taskUUID)).errors?.[0]).toMatchObject({ code: "taskNotFound" });
    // The fault was for one upload only.
    const next = modelUploadTask();
    c.send([next]);
    expect((await c.itemsFor(next.taskUUID, 5)).at(-1)?.["status"]).toBe("ready");
  });
});
