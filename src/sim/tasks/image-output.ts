/**
 * One image result in the requested `outputType` (docs/protocol.md §3.4): `imageURL` (rendered when
 * fetched), `imageBase64Data` or `imageDataURI`. Every image made is kept by UUID whatever its output
 * type, so its `imageUUID` is a valid input of a later task (inputs.ts), as at Runware.
 */
import { randomUUID } from "node:crypto";
import { imageUrl } from "../images.js";
import { padPng } from "../png.js";
import { renderImage, type RenderSpec } from "../render.js";
import type { Item } from "../wire.js";
import type { TaskContext } from "./types.js";

export function imageOutput(ctx: TaskContext, spec: RenderSpec, outputType: unknown): Item {
  const imageUUID = randomUUID();
  ctx.images.add(imageUUID, spec);
  const base64 = () => padPng(renderImage(spec), ctx.base64ResultChars).toString("base64");
  // We only render PNG, whatever outputFormat asks for (documented simplification).
  if (outputType === "base64Data") return { imageUUID, imageBase64Data: base64() };
  if (outputType === "dataURI") return { imageUUID, imageDataURI: `data:image/png;base64,${base64()}` };
  return { imageUUID, imageURL: imageUrl(ctx.httpUrl, imageUUID) };
}
