/**
 * Media inputs as Runware takes them (docs/protocol.md §8: `seedImage`, `maskImage`,
 * `referenceImages`, `inputImage`, `inputs.*`, ...; the list is protocol/task-kinds.ts
 * MEDIA_INPUTS): a URL, a data URI, base64 data, or the UUID of an image or media Runware holds
 * (uploaded with `imageUpload` / `mediaStorage`, or generated). A UUID the simulator does not know
 * is refused with `invalid<Param>` naming the field, as is anything that is none of the four.
 * URLs are accepted unread: the simulator never reaches out of the machine.
 */
import { forEachMediaInput } from "../protocol/media-inputs.js";
import type { Problem } from "./validate.js";
import { isUuid, paramCode, wireError } from "./wire.js";

const DATA_URI = /^data:([\w.+-]+\/[\w.+-]+)?((?:;[\w-]+=[^;,]*)*);base64,(.*)$/s;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** What one input value is. */
export type InputValue =
  | { readonly form: "uuid"; readonly uuid: string }
  | { readonly form: "url" }
  | { readonly form: "data"; readonly bytes: Buffer }
  | { readonly form: "bad" };

export function classify(value: string): InputValue {
  if (isUuid(value)) return { form: "uuid", uuid: value.toLowerCase() };
  if (/^https?:\/\//i.test(value)) return { form: "url" };
  const uri = DATA_URI.exec(value);
  const b64 = uri ? (uri[3] ?? "") : value;
  if (b64.length >= 4 && b64.length % 4 === 0 && BASE64.test(b64)) return { form: "data", bytes: Buffer.from(b64, "base64") };
  return { form: "bad" };
}

/** Runware's parameter name for a place: `referenceImages[1]` → `referenceImages`, `inputs.image` stays. */
function parameterOf(where: string): string {
  return where.replace(/\[\d+\]/g, "");
}

/** The first input of `task` that is malformed or names media the simulator does not hold. */
export function mediaInputProblem(task: Record<string, unknown>, known: (uuid: string) => boolean): Problem {
  let problem: Problem;
  forEachMediaInput(task, (value, where) => {
    if (problem) return undefined;
    const v = classify(value);
    const why =
      v.form === "bad"
        ? "must be a URL, a data URI, base64 data or the UUID of uploaded media"
        : v.form === "uuid" && !known(v.uuid)
          ? `no image or media with UUID ${v.uuid} (unknown or expired; upload it first with imageUpload or mediaStorage)`
          : undefined;
    if (why) {
      const parameter = parameterOf(where);
      const last = parameter.split(".").pop() ?? parameter;
      problem = { ...wireError(paramCode("invalid", last)), message: `Invalid value for '${parameter}': ${why}.`, parameter };
    }
    return undefined;
  });
  return problem;
}
