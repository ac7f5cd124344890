/**
 * What a task type contributes: its parameter checks and the items it will produce. Scheduling,
 * delivery, async state and fault injection are the same for every task type (runner.ts).
 */
import type { ImageStore } from "../images.js";
import type { MediaStore } from "../media/store.js";
import type { SimOptions, SplitMode } from "../options.js";
import type { Rng } from "../rng.js";
import type { Problem } from "../validate.js";
import type { Item } from "../wire.js";

interface TaskContext {
  rng: Rng;
  images: ImageStore;
  /** Generated videos and audio, served at `/video/…` and `/audio/…`. */
  media: MediaStore;
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
  /**
   * Runware runs this task type asynchronously only: without `deliveryMethod: "async"` it is refused
   * with `invalidDeliveryMethod` (src/sim/README.md: the code is our choice).
   */
  asyncOnly?: true;
  /**
   * Its render time at `timeScale` 1, instead of `workMs`; such a task reports `progress` while it
   * renders (docs/protocol.md §4.2: only tasks that support progress carry it).
   */
  renderMs?(opts: Readonly<SimOptions>): number;
  validate(task: Item): Problem;
  plan(task: Item, ctx: TaskContext): TaskPlan;
}
