/**
 * `imageUpload` (one item with a fresh `imageUUID`) and `modelUpload` (a stream of status items,
 * validated → downloaded → optimized → stored → ready, one frame each; docs/protocol.md §3.3).
 */
import { randomUUID } from "node:crypto";
import { SIM_CONSTANTS } from "../limits.js";
import { firstProblem, stringParam } from "../validate.js";
import type { TaskHandler } from "./types.js";

export const imageUpload: TaskHandler = {
  validate: (task) => firstProblem(() => stringParam(task, "image", { min: 1 }, true)),
  plan: () => ({ items: [() => ({ imageUUID: randomUUID() })] }),
};

export const modelUpload: TaskHandler = {
  validate: (task) => firstProblem(() => stringParam(task, "air", { min: 1 }, true)),
  plan: (task) => ({
    items: SIM_CONSTANTS.modelUploadStatuses.map((status) => () => ({ status, air: task["air"] })),
    split: "each",
  }),
};
