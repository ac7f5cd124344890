/**
 * The input image of an image tool (upscale, background removal, caption): `inputImage` in the old
 * task types, `inputs.image` in the new ones (docs/protocol.md §8). Runware answers the input's UUID
 * (`inputImageUUID`) so it can be reused: a UUID is kept, anything else is stored under a fresh one.
 * What the input looks like is known only for images the simulator rendered; others are `fallback`.
 */
import { randomUUID } from "node:crypto";
import { classify } from "../inputs.js";
import { sniff } from "../../util/file-type.js";
import type { RenderSpec } from "../render.js";
import { isRecord, paramCode, wireError, type Item } from "../wire.js";
import type { Problem } from "../validate.js";
import type { TaskContext } from "./types.js";

/** Side of an input image whose size the simulator cannot know (an upload, a URL). */
const UNKNOWN_SIDE = 512;

function rawInput(task: Item): unknown {
  const inputs = task["inputs"];
  return task["inputImage"] ?? (isRecord(inputs) ? inputs["image"] : undefined);
}

/** `missingInputImage` when neither form is there (the value itself is checked by inputs.ts). */
export function inputImageProblem(task: Item): Problem {
  if (typeof rawInput(task) === "string") return undefined;
  const parameter = "inputImage";
  return {
    ...wireError(paramCode("missing", parameter)),
    message: "Missing required parameter 'inputImage' (or 'inputs.image').",
    parameter,
  };
}

export interface InputImage {
  readonly inputImageUUID: string;
  /** What the input shows, as a render recipe. */
  readonly spec: RenderSpec;
}

/** Resolve (and, when new, store) the validated input image of `task`. */
export function inputImage(task: Item, ctx: TaskContext): InputImage {
  const value = String(rawInput(task));
  const v = classify(value);
  if (v.form === "uuid") {
    return { inputImageUUID: v.uuid, spec: ctx.images.spec(v.uuid) ?? fallback("an uploaded image") };
  }
  const inputImageUUID = randomUUID();
  if (v.form === "data") {
    const kind = sniff(v.bytes);
    ctx.images.addBytes(inputImageUUID, v.bytes, kind.type, kind.ext);
    return { inputImageUUID, spec: fallback("an uploaded image") };
  }
  const spec = fallback(`the image at ${value.slice(0, 200)}`);
  ctx.images.add(inputImageUUID, spec);
  return { inputImageUUID, spec };
}

function fallback(prompt: string): RenderSpec {
  return { prompt, seed: 1, width: UNKNOWN_SIDE, height: UNKNOWN_SIDE };
}
