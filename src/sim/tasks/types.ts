/**
 * What a task type contributes: its parameter checks and the items it will produce. Scheduling,
 * delivery, async state and fault injection are the same for every task type (runner.ts).
 */
import type { ImageStore } from "../images.js";
import type { SplitMode } from "../options.js";
import type { Rng } from "../rng.js";
import type { Problem } from "../validate.js";
import type { Item } from "../wire.js";

interface TaskContext {
  rng: Rng;
  images: ImageStore;
  /** `http://host:port` of the simulator, for image URLs. */
  httpUrl: string;
  /** `SimOptions.base64ResultChars`: pad base64 and data URI images to this length (0: no padding). */
  base64ResultChars: number;
}

/** Builds one result item's fields (beyond taskType/taskUUID), called when that item finishes. */
type ItemProducer = () => Item;

export interface TaskPlan {
  items: ItemProducer[];
  /** Overrides `SimOptions.split` (modelUpload sends one status per frame). */
  split?: SplitMode;
}

export interface TaskHandler {
  validate(task: Item): Problem;
  plan(task: Item, ctx: TaskContext): TaskPlan;
}
