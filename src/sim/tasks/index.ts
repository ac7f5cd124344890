/** Task types the simulator runs; anything else gets `unsupportedTaskType`. */
import { accountManagement } from "./account.js";
import { imageInference } from "./image-inference.js";
import { IMAGE_TOOLS } from "./image-tools.js";
import { audioInference, videoInference } from "./media-inference.js";
import { modelSearch } from "./model-search.js";
import { promptEnhance } from "./prompt-enhance.js";
import { textInference } from "./text-inference.js";
import type { TaskHandler } from "./types.js";
import { imageUpload, mediaStorage, modelUpload } from "./uploads.js";

export const TASK_HANDLERS: ReadonlyMap<string, TaskHandler> = new Map([
  ["imageInference", imageInference],
  ["videoInference", videoInference],
  ["audioInference", audioInference],
  ["modelSearch", modelSearch],
  ["promptEnhance", promptEnhance],
  ["imageUpload", imageUpload],
  ["modelUpload", modelUpload],
  ["mediaStorage", mediaStorage],
  ["textInference", textInference],
  ["accountManagement", accountManagement],
  ...IMAGE_TOOLS,
]);

export type { TaskHandler, TaskPlan } from "./types.js";
