/** Task types the simulator runs; anything else gets `unsupportedTaskType`. */
import { imageInference } from "./image-inference.js";
import { audioInference, videoInference } from "./media-inference.js";
import { modelSearch } from "./model-search.js";
import { promptEnhance } from "./prompt-enhance.js";
import type { TaskHandler } from "./types.js";
import { imageUpload, modelUpload } from "./uploads.js";

export const TASK_HANDLERS: ReadonlyMap<string, TaskHandler> = new Map([
  ["imageInference", imageInference],
  ["videoInference", videoInference],
  ["audioInference", audioInference],
  ["modelSearch", modelSearch],
  ["promptEnhance", promptEnhance],
  ["imageUpload", imageUpload],
  ["modelUpload", modelUpload],
]);

export type { TaskHandler, TaskPlan } from "./types.js";
