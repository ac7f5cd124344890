/**
 * `videoInference` and `audioInference` (docs/protocol.md §4, §8): Runware runs them asynchronously
 * only, so the dispatcher refuses them without `deliveryMethod: "async"` (asyncOnly). Each of the
 * `numberResults` items gets a fresh `videoUUID`/`audioUUID`, its URL on the simulator's HTTP server
 * (audio may also come as `audioBase64Data`/`audioDataURI`), `seed`, `cost` with `includeCost`, and
 * for video `NSFWContent` when a safety check was asked for. Field names: the TS SDK's
 * VideoInferenceResult / AudioInferenceResult. Render time: `videoRenderMs`/`audioRenderMs` × `timeScale`.
 */
import { randomUUID } from "node:crypto";
import { modelTaskType } from "../catalogue.js";
import { RUNWARE_LIMITS, SIM_CONSTANTS } from "../limits.js";
import { AUDIO_FORMATS, servedFile, VIDEO_FORMATS } from "../media/formats.js";
import { mediaUrl } from "../media/store.js";
import { booleanParam, enumParam, firstProblem, numberParam, ruleParam, stringParam, type Problem } from "../validate.js";
import { isRecord, type Item } from "../wire.js";
import type { TaskHandler } from "./types.js";

const L = RUNWARE_LIMITS.mediaInference;
const AIR_RE = /^[\w.-]+:[\w.-]+@[\w.-]+$/;

/** A model the catalogue knows must be a model of this task type (an image model cannot render video). */
function modelProblem(task: Item, taskType: string): Problem {
  return firstProblem(
    () => stringParam(task, "model", { min: 1 }, true),
    () => ruleParam(task, "model", (v) => typeof v === "string" && AIR_RE.test(v), "must be an AIR identifier such as klingai:5@3"),
    () => ruleParam(task, "model", (v) => (modelTaskType(String(v)) ?? taskType) === taskType, `this model does not run ${taskType}`),
  );
}

function plan(kind: "video" | "audio", cost: number): TaskHandler["plan"] {
  return (task, ctx) => {
    const n = typeof task["numberResults"] === "number" ? task["numberResults"] : L.numberResults.default;
    const baseSeed = typeof task["seed"] === "number" ? task["seed"] : ctx.rng.int(1, RUNWARE_LIMITS.randomSeedMax);
    const file = servedFile(kind, task["outputFormat"]);
    const outputType = typeof task["outputType"] === "string" ? task["outputType"] : "URL";
    const includeCost = task["includeCost"] === true;
    const safety = task["safety"];
    const nsfw = kind === "video" && isRecord(safety) && safety["checkContent"] === true;
    const produce = (index: number): Item => {
      const uuid = randomUUID();
      const item: Item = { [`${kind}UUID`]: uuid };
      // Kept whatever the output type, so the UUID is a valid input of a later task (inputs.ts).
      ctx.media.add(uuid, file);
      if (outputType === "base64Data") item[`${kind}Base64Data`] = file.bytes().toString("base64");
      else if (outputType === "dataURI") item[`${kind}DataURI`] = `data:${file.contentType};base64,${file.bytes().toString("base64")}`;
      else item[`${kind}URL`] = mediaUrl(ctx.httpUrl, uuid, file);
      item["seed"] = baseSeed + index;
      if (nsfw) item["NSFWContent"] = false;
      if (includeCost) item["cost"] = cost;
      return item;
    };
    return { items: Array.from({ length: n }, (_, i) => () => produce(i)), cost };
  };
}

const common = (task: Item) => [
  () => stringParam(task, "positivePrompt", L.positivePrompt, true),
  () => stringParam(task, "negativePrompt", L.positivePrompt, false),
  () => numberParam(task, "numberResults", L.numberResults, { required: false, integer: true }),
  () => numberParam(task, "seed", L.seed, { required: false, integer: true }),
  () => booleanParam(task, "includeCost"),
];

export const videoInference: TaskHandler = {
  asyncOnly: true,
  renderMs: (opts) => opts.videoRenderMs,
  validate: (task) =>
    firstProblem(
      () => modelProblem(task, "videoInference"),
      ...common(task),
      () => numberParam(task, "duration", L.videoDuration, { required: true, integer: false }),
      () => numberParam(task, "width", L.videoSide, { required: true, integer: true }),
      () => numberParam(task, "height", L.videoSide, { required: true, integer: true }),
      () => numberParam(task, "fps", L.fps, { required: false, integer: true }),
      () => enumParam(task, "outputType", L.videoOutputTypes),
      () => enumParam(task, "outputFormat", VIDEO_FORMATS, true),
      () => numberParam(task, "outputQuality", L.outputQuality, { required: false, integer: true }),
    ),
  plan: plan("video", SIM_CONSTANTS.costPerVideo),
};

export const audioInference: TaskHandler = {
  asyncOnly: true,
  renderMs: (opts) => opts.audioRenderMs,
  validate: (task) =>
    firstProblem(
      () => modelProblem(task, "audioInference"),
      ...common(task),
      () => numberParam(task, "duration", L.audioDuration, { required: true, integer: false }),
      () => enumParam(task, "outputType", L.audioOutputTypes),
      () => enumParam(task, "outputFormat", AUDIO_FORMATS, true),
    ),
  plan: plan("audio", SIM_CONSTANTS.costPerAudio),
};
