/**
 * Task kinds in one place: for each task type, whether Runware runs it asynchronously and how its
 * polling starts (docs/protocol.md §4.5). Runware's advice: images and fast tasks synchronous;
 * video, audio, 3D and training asynchronous, with an initial delay before the first poll for tasks
 * of predictable length (platform/task-polling). The official TypeScript SDK's types
 * (src/types/task-map.ts) take only `deliveryMethod: "async"` for `videoInference` and for the
 * video forms of `caption`, `upscale` and `removeBackground` (an `inputs.video`).
 *
 * The daemon sends `deliveryMethod: "async"` for these when the caller gave none, and polls for
 * the caller (docs/local-api.md §2.8). Slots for later issues: how a kind ends (`ending`) and
 * which fields carry media inputs (`mediaInputs`).
 */

/** When a task of this kind goes to Runware as async. */
export type AsyncRule =
  /** Every task of the type. */
  | "always"
  /** Only when the task works on a video (`inputs.video`): the video forms of caption, upscale, removeBackground. */
  | "video-input";

export interface TaskKind {
  readonly async: AsyncRule;
  /**
   * The first getResponse after this many ms (the engine never waits longer than its poll cap).
   * A render takes tens of seconds: an earlier poll only says "processing".
   */
  readonly firstPollMs: number;
  /** Issue 13/14: a kind-specific rule for when the task is complete (today: protocol/expect.ts). */
  readonly ending?: undefined;
  /** Issue 13/14: fields that carry media inputs (paths, URLs, base64). */
  readonly mediaInputs?: readonly string[];
}

const VIDEO_OPERATION: TaskKind = { async: "video-input", firstPollMs: 3_000 };

export const TASK_KINDS: Readonly<Record<string, TaskKind>> = {
  videoInference: { async: "always", firstPollMs: 5_000 },
  audioInference: { async: "always", firstPollMs: 2_000 },
  "3dInference": { async: "always", firstPollMs: 5_000 },
  training: { async: "always", firstPollMs: 10_000 },
  caption: VIDEO_OPERATION,
  upscale: VIDEO_OPERATION,
  removeBackground: VIDEO_OPERATION,
};

export function kindOf(taskType: string): TaskKind | undefined {
  return Object.hasOwn(TASK_KINDS, taskType) ? TASK_KINDS[taskType] : undefined;
}

function hasVideoInput(task: Record<string, unknown>): boolean {
  const inputs = task["inputs"];
  return typeof inputs === "object" && inputs !== null && (inputs as Record<string, unknown>)["video"] !== undefined;
}

/** Whether Runware runs this task asynchronously by its kind (the caller's `deliveryMethod` aside). */
export function runsAsync(task: { taskType: string; [k: string]: unknown }): boolean {
  const kind = kindOf(task.taskType);
  if (!kind) return false;
  return kind.async === "always" || hasVideoInput(task);
}

/** The first poll's delay for an async task of this type; `fallbackMs` for other types. */
export function firstPollMs(taskType: string, fallbackMs: number): number {
  return kindOf(taskType)?.firstPollMs ?? fallbackMs;
}
