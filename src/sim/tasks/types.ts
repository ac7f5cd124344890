/**
 * What a task type contributes: its parameter checks and the items it will produce. Scheduling,
 * delivery, async state and fault injection are the same for every task type (runner.ts).
 */
import type { Account } from "../account.js";
import type { ModelUploadFaults } from "../faults.js";
import type { ImageStore } from "../images.js";
import type { MediaStore } from "../media/store.js";
import type { SimOptions, SplitMode } from "../options.js";
import type { Rng } from "../rng.js";
import type { Problem } from "../validate.js";
import type { Item } from "../wire.js";

export interface TaskContext {
  rng: Rng;
  /** Generated and uploaded images; any of them is a valid image input (inputs.ts). */
  images: ImageStore;
  /** Generated videos and audio, served at `/video/…` and `/audio/…`. */
  media: MediaStore;
  /** `http://host:port` of the simulator, for image URLs. */
  httpUrl: string;
  /** `SimOptions.base64ResultChars`: pad base64 and data URI images to this length (0: no padding). */
  base64ResultChars: number;
  /** The balance `accountManagement` reports; finished work is charged to it (runner.ts). */
  account: Account;
  /** `failModelUploads`: the next uploads end on a failure status. */
  modelUploadFaults: ModelUploadFaults;
}

/** Builds one result item's fields (beyond taskType/taskUUID), called when that item finishes. */
type ItemProducer = () => Item;

export interface TaskPlan {
  items: ItemProducer[];
  /** Overrides `SimOptions.split` (modelUpload sends one status per frame). */
  split?: SplitMode;
  /**
   * USD one item costs, charged to the account when it succeeds whether or not the request asked
   * for `includeCost` (which only decides whether the answer shows it). Absent: free.
   */
  cost?: number;
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
  /**
   * `getResponse` does not know this task type (modelUpload: Runware's CLI finds its status cannot
   * always be fetched, docs/protocol.md §3.3); the simulator answers `taskNotFound`.
   */
  notPolled?: true;
  validate(task: Item): Problem;
  plan(task: Item, ctx: TaskContext): TaskPlan;
}
