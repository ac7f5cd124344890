/**
 * Image tools (docs/protocol.md §8; shapes: the TS SDK's UpscaleImageParams, RemoveBackgroundResult,
 * CaptionResult): `upscale` / `imageUpscale`, `removeBackground` / `imageBackgroundRemoval` and
 * `caption` / `imageCaption`, each under its new and its old name. The input is `inputImage` or
 * `inputs.image` (image-input.ts); one item answers: the new image (`imageUUID` and its output) with
 * `inputImageUUID`, or for caption a `text`. `model` is optional, and an AIR when given.
 */
import { RENDER_DEFAULTS } from "../render.js";
import { RUNWARE_LIMITS, SIM_CONSTANTS } from "../limits.js";
import { booleanParam, enumParam, firstProblem, numberParam, ruleParam, type Problem } from "../validate.js";
import type { Item } from "../wire.js";
import { inputImage, inputImageProblem } from "./image-input.js";
import { imageOutput } from "./image-output.js";
import type { TaskHandler } from "./types.js";

const AIR_RE = /^[\w.-]+:[\w.-]+@[\w.-]+$/;
const L = RUNWARE_LIMITS.imageInference;

const common = (task: Item): Array<() => Problem> => [
  () => inputImageProblem(task),
  () => ruleParam(task, "model", (v) => typeof v === "string" && AIR_RE.test(v), "must be an AIR identifier such as runware:500@1"),
  () => booleanParam(task, "includeCost"),
];

const imageOut = (task: Item): Array<() => Problem> => [
  () => enumParam(task, "outputType", L.outputTypes),
  () => enumParam(task, "outputFormat", L.outputFormats, true),
  () => numberParam(task, "outputQuality", L.outputQuality, { required: false, integer: true }),
];

const costOf = (task: Item) => (task["includeCost"] === true ? { cost: SIM_CONSTANTS.costPerTool } : {});

const upscale: TaskHandler = {
  validate: (task) =>
    firstProblem(
      ...common(task),
      () => numberParam(task, "upscaleFactor", RUNWARE_LIMITS.upscaleFactor, { required: true, integer: true }),
      ...imageOut(task),
    ),
  plan: (task, ctx) => ({
    cost: SIM_CONSTANTS.costPerTool,
    items: [
      () => {
        const input = inputImage(task, ctx);
        const factor = Number(task["upscaleFactor"]);
        const side = (s: number) => Math.min(RENDER_DEFAULTS.maxSide, s * factor);
        const spec = { ...input.spec, width: side(input.spec.width), height: side(input.spec.height) };
        return { ...imageOutput(ctx, spec, task["outputType"]), inputImageUUID: input.inputImageUUID, ...costOf(task) };
      },
    ],
  }),
};

const removeBackground: TaskHandler = {
  validate: (task) => firstProblem(...common(task), ...imageOut(task)),
  plan: (task, ctx) => ({
    cost: SIM_CONSTANTS.costPerTool,
    items: [
      () => {
        const input = inputImage(task, ctx);
        // The same subject on a new background: a recipe the renderer draws differently.
        const spec = { ...input.spec, prompt: `${input.spec.prompt} (no background)` };
        return { ...imageOutput(ctx, spec, task["outputType"]), inputImageUUID: input.inputImageUUID, ...costOf(task) };
      },
    ],
  }),
};

const caption: TaskHandler = {
  validate: (task) => firstProblem(...common(task)),
  plan: (task, ctx) => ({
    cost: SIM_CONSTANTS.costPerTool,
    items: [
      () => {
        const input = inputImage(task, ctx);
        return { text: `a picture of ${input.spec.prompt}`, inputImageUUID: input.inputImageUUID, ...costOf(task) };
      },
    ],
  }),
};

/** Every name each tool answers to, new and old. */
export const IMAGE_TOOLS: ReadonlyArray<readonly [string, TaskHandler]> = [
  ["upscale", upscale],
  ["imageUpscale", upscale],
  ["removeBackground", removeBackground],
  ["imageBackgroundRemoval", removeBackground],
  ["caption", caption],
  ["imageCaption", caption],
];
