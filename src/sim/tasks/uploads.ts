/**
 * Uploads (docs/protocol.md §8): `imageUpload` (answers `imageUUID` and `imageURL`), `mediaStorage`
 * (`upload` answers `mediaUUID` and `mediaURL`; `delete` forgets one) and `modelUpload` (a stream of
 * status items, validated → downloaded → optimized → stored → ready, one frame each, §3.3). The
 * value itself was checked by inputs.ts; what it is comes from its first bytes (util/file-type.ts).
 */
import { randomUUID } from "node:crypto";
import { imageUrl } from "../images.js";
import { classify } from "../inputs.js";
import { RUNWARE_LIMITS, SIM_CONSTANTS } from "../limits.js";
import { sniff } from "../../util/file-type.js";
import { mediaUrl } from "../media/store.js";
import { enumParam, firstProblem, ruleParam, stringParam } from "../validate.js";
import { isUuid, SimTaskError, wireError, type Item } from "../wire.js";
import type { TaskContext, TaskHandler } from "./types.js";

/** Side of an uploaded image given as a URL (the simulator never fetches it). */
const URL_IMAGE_SIDE = 512;

export const imageUpload: TaskHandler = {
  validate: (task) => firstProblem(() => stringParam(task, "image", { min: 1 }, true)),
  plan: (task, ctx) => ({ items: [() => storeImage(String(task["image"]), ctx)] }),
};

function storeImage(value: string, ctx: TaskContext): Item {
  const v = classify(value);
  // An image Runware already holds is answered with its own UUID.
  if (v.form === "uuid") return { imageUUID: v.uuid, imageURL: imageUrl(ctx.httpUrl, v.uuid) };
  const imageUUID = randomUUID();
  if (v.form === "data") {
    const kind = sniff(v.bytes);
    ctx.images.addBytes(imageUUID, v.bytes, kind.type, kind.ext);
    return { imageUUID, imageURL: imageUrl(ctx.httpUrl, imageUUID, kind.ext) };
  }
  ctx.images.add(imageUUID, { prompt: `the image at ${value.slice(0, 200)}`, seed: 1, width: URL_IMAGE_SIDE, height: URL_IMAGE_SIDE });
  return { imageUUID, imageURL: imageUrl(ctx.httpUrl, imageUUID) };
}

export const mediaStorage: TaskHandler = {
  validate: (task) =>
    firstProblem(
      () => stringParam(task, "operation", { min: 1 }, true),
      () => enumParam(task, "operation", RUNWARE_LIMITS.mediaStorageOperations),
      () => (task["operation"] === "upload" ? stringParam(task, "media", { min: 1 }, true) : undefined),
      () => (task["operation"] === "delete" ? stringParam(task, "mediaUUID", { min: 1 }, true) : undefined),
      () => (task["operation"] === "delete" ? ruleParam(task, "mediaUUID", isUuid, "must be a UUID") : undefined),
    ),
  plan: (task, ctx) => ({
    items: [() => (task["operation"] === "delete" ? deleteMedia(task, ctx) : storeMedia(String(task["media"]), ctx))],
  }),
};

function storeMedia(value: string, ctx: TaskContext): Item {
  const v = classify(value);
  if (v.form === "uuid") return { operation: "upload", mediaUUID: v.uuid };
  const mediaUUID = randomUUID();
  const bytes = v.form === "data" ? v.bytes : Buffer.alloc(0);
  const kind = sniff(bytes);
  const file = { kind: "media", ext: kind.ext, contentType: kind.type, bytes: () => bytes } as const;
  ctx.media.add(mediaUUID, file);
  return { operation: "upload", mediaUUID, mediaURL: mediaUrl(ctx.httpUrl, mediaUUID, file) };
}

/** Deleting media Runware does not hold is an error, raised when the item is made (runner.ts fails the task with it). */
function deleteMedia(task: Item, ctx: TaskContext): Item {
  const mediaUUID = String(task["mediaUUID"]).toLowerCase();
  if (!ctx.media.delete(mediaUUID)) {
    throw new SimTaskError({
      ...wireError("invalidMediaUUID"),
      message: `Invalid value for 'mediaUUID': no media with UUID ${mediaUUID}.`,
      parameter: "mediaUUID",
    });
  }
  return { operation: "delete", mediaUUID };
}

const AIR = /^[a-z0-9_-]+:[a-z0-9_.-]+@[a-z0-9_.-]+$/i;

export const modelUpload: TaskHandler = {
  // Runware keeps the status out of getResponse's reach (docs/protocol.md §3.3).
  notPolled: true,
  validate: (task) =>
    firstProblem(
      () => stringParam(task, "category", { min: 1 }, true),
      () => enumParam(task, "category", RUNWARE_LIMITS.modelUpload.categories),
      () => stringParam(task, "architecture", { min: 1 }, true),
      () => stringParam(task, "format", { min: 1 }, true),
      () => enumParam(task, "format", RUNWARE_LIMITS.modelUpload.formats),
      () => stringParam(task, "name", { min: 1, max: 255 }, true),
      () => stringParam(task, "version", { min: 1, max: 255 }, true),
      () => stringParam(task, "downloadURL", { min: 1 }, true),
      () => ruleParam(task, "downloadURL", (v) => typeof v === "string" && /^https?:\/\//i.test(v), "must be an http(s) URL"),
      () =>
        ruleParam(task, "air", (v) => v === undefined || (typeof v === "string" && AIR.test(v)), "must be an AIR like provider:id@version"),
    ),
  plan: (task, ctx) => {
    const air = typeof task["air"] === "string" ? task["air"] : `sim:${randomUUID().slice(0, 8)}@1`;
    const failure = ctx.modelUploadFaults.take();
    const statuses: readonly string[] = SIM_CONSTANTS.modelUploadStatuses;
    // A failure ends the stream after `validated` with its own status and message, as Runware's "error downloading".
    const items = failure
      ? [() => ({ status: statuses[0], air }), () => ({ status: failure.status, message: failure.message, air })]
      : statuses.map((status) => () => ({ status, air }));
    return { items, split: "each" };
  },
};
