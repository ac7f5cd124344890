/**
 * `imageInference` (docs/protocol.md §3.3, §3.4, §8): validation per the documented ranges, then
 * `numberResults` items, each with a fresh `imageUUID`, `seed` (requested + index, or a random 32-bit
 * base + index), the output in the requested `outputType`, `cost` only with `includeCost` and
 * `NSFWContent` only when a safety check was asked for.
 */
import { modelTaskType } from "../catalogue.js";
import { RUNWARE_LIMITS, SIM_CONSTANTS } from "../limits.js";
import { booleanParam, enumParam, firstProblem, numberParam, ruleParam, stringParam } from "../validate.js";
import { isRecord, type Item } from "../wire.js";
import { imageOutput } from "./image-output.js";
import type { TaskHandler } from "./types.js";

const L = RUNWARE_LIMITS.imageInference;

/** AIR identifiers look like `runware:101@1` or `civitai:4384@128713` (docs/protocol.md §8). */
const AIR_RE = /^[\w.-]+:[\w.-]+@[\w.-]+$/;

function wantsNsfwCheck(task: Item): boolean {
  const safety = task["safety"];
  return task["checkNSFW"] === true || (isRecord(safety) && safety["checkContent"] === true);
}

export const imageInference: TaskHandler = {
  validate: (task) =>
    firstProblem(
      () => stringParam(task, "model", { min: 1 }, true),
      () => ruleParam(task, "model", (v) => typeof v === "string" && AIR_RE.test(v), "must be an AIR identifier such as runware:101@1"),
      () =>
        ruleParam(
          task,
          "model",
          (v) => (modelTaskType(String(v)) ?? "imageInference") === "imageInference",
          "this model does not run imageInference",
        ),
      () => stringParam(task, "positivePrompt", L.positivePrompt, true),
      () => stringParam(task, "negativePrompt", L.negativePrompt, false),
      () => numberParam(task, "width", L.side, { required: true, integer: true }),
      () => numberParam(task, "height", L.side, { required: true, integer: true }),
      () => numberParam(task, "numberResults", L.numberResults, { required: false, integer: true }),
      () => numberParam(task, "steps", L.steps, { required: false, integer: true }),
      () => numberParam(task, "CFGScale", L.CFGScale, { required: false, integer: false }),
      () => numberParam(task, "seed", L.seed, { required: false, integer: true }),
      () => enumParam(task, "outputType", L.outputTypes),
      () => enumParam(task, "outputFormat", L.outputFormats, true),
      () => numberParam(task, "outputQuality", L.outputQuality, { required: false, integer: true }),
      () => booleanParam(task, "includeCost"),
      () => booleanParam(task, "checkNSFW"),
    ),

  plan: (task, ctx) => {
    const n = typeof task["numberResults"] === "number" ? task["numberResults"] : L.numberResults.default;
    const baseSeed = typeof task["seed"] === "number" ? task["seed"] : ctx.rng.int(1, RUNWARE_LIMITS.randomSeedMax);
    const prompt = String(task["positivePrompt"]);
    const width = Number(task["width"]);
    const height = Number(task["height"]);
    const includeCost = task["includeCost"] === true;
    const nsfw = wantsNsfwCheck(task);

    const produce = (index: number): Item => {
      const spec = { prompt, seed: baseSeed + index, width, height };
      const item = imageOutput(ctx, spec, task["outputType"]);
      item["seed"] = spec.seed;
      if (nsfw) item["NSFWContent"] = false;
      if (includeCost) item["cost"] = SIM_CONSTANTS.costPerImage;
      return item;
    };
    return { items: Array.from({ length: n }, (_, i) => () => produce(i)), cost: SIM_CONSTANTS.costPerImage };
  },
};
