/**
 * Task kinds in one place (docs/protocol.md §3.3, §4.5): for each task type, whether Runware runs
 * it asynchronously, how its polling starts, how it ends, and whether getResponse answers for it.
 * Runware's advice: images and fast tasks synchronous; video, audio, 3D and training asynchronous,
 * with an initial delay before the first poll for tasks of predictable length (platform/task-polling).
 * The official TypeScript SDK's types (src/types/task-map.ts) take only `deliveryMethod: "async"`
 * for `videoInference` and for the video forms of `caption`, `upscale` and `removeBackground` (an
 * `inputs.video`).
 *
 * The daemon sends `deliveryMethod: "async"` for these when the caller gave none, and polls for
 * the caller (docs/local-api.md §2.8). A task type not listed runs sync and ends with one item.
 */

/** When a task of this kind goes to Runware as async. */
export type AsyncRule =
  /** Never by its kind (the caller may still ask for async). */
  | "never"
  /** Every task of the type. */
  | "always"
  /** Only when the task works on a video (`inputs.video`): the video forms of caption, upscale, removeBackground. */
  | "video-input";

/** When a task is complete (docs/protocol.md §3.3); a task with a `webhookURL` ends on its acknowledgement whatever its kind. */
export type Ending =
  /** As many items as the task's `field` asks for (a positive integer; default 1). */
  | { readonly by: "count"; readonly field: "numberResults" | "promptVersions" }
  /**
   * A stream of status items ending at the first status not in `inProgress`: `success` is the good
   * end, any other is a failure (the official CLI saw failures other than `failed`).
   */
  | { readonly by: "status"; readonly inProgress: readonly string[]; readonly success: string };

export interface TaskKind {
  readonly async: AsyncRule;
  /**
   * The first getResponse after this many ms (the engine never waits longer than its poll cap).
   * A render takes tens of seconds: an earlier poll only says "processing".
   */
  readonly firstPollMs?: number;
  /** Default: one item. */
  readonly ending?: Ending;
  /**
   * Runware reports it only on the connection that sent it, never through getResponse: after a
   * drop the daemon waits for the resumed session's replay or resends it, and never polls.
   */
  readonly streamedOnly?: true;
  /** Runs for many minutes without being async: bounded by `--async-timeout-ms` from its submission, not `--task-timeout-ms`. */
  readonly long?: true;
}

/**
 * Fields that carry a media input, in every task type alike (docs/protocol.md §8; runware-modalities:
 * a URL, base64, a data URI or the UUID of uploaded media). `[]` is every element of an array;
 * `inputs.` is the 2026 schemas' form. The CLI reads a local path here and sends its bytes
 * (`client/local-files.ts`).
 */
export const MEDIA_INPUTS: readonly string[] = [
  "seedImage",
  "maskImage",
  "guideImage",
  "inputImage",
  "inputImages[]",
  "referenceImages[]",
  "referenceVideos[]",
  "frameImages[].inputImage",
  "controlNet[].guideImage",
  "ipAdapters[].guideImage",
  "inputAudio",
  "inputAudios[]",
  "inputVideo",
  "image",
  "media",
  "inputs.image",
  "inputs.images[]",
  "inputs.seedImage",
  "inputs.maskImage",
  "inputs.referenceImages[]",
  "inputs.frameImages[].image",
  "inputs.video",
  "inputs.audio",
];

const COUNTED: Ending = { by: "count", field: "numberResults" };
const VIDEO_OPERATION: TaskKind = { async: "video-input", firstPollMs: 3_000 };

/**
 * modelUpload: validated → downloaded → optimized → stored → ready, or a failure (docs/protocol.md
 * §3.3). The official CLI: "the API does not expose them via getResponse polling" (internal/api/
 * client.go); the Python SDK waits up to 15 min, sdk-js 1 h, for a file of gigabytes.
 */
const MODEL_UPLOAD: TaskKind = {
  async: "never",
  ending: { by: "status", inProgress: ["validated", "downloaded", "optimized", "stored"], success: "ready" },
  streamedOnly: true,
  long: true,
};

export const TASK_KINDS: Readonly<Record<string, TaskKind>> = {
  imageInference: { async: "never", ending: COUNTED },
  photoMaker: { async: "never", ending: COUNTED },
  /** rw-ts task-map.ts: textInference takes numberResults (docs/protocol.md §3.3). */
  textInference: { async: "never", ending: COUNTED },
  videoInference: { async: "always", firstPollMs: 5_000, ending: COUNTED },
  audioInference: { async: "always", firstPollMs: 2_000, ending: COUNTED },
  "3dInference": { async: "always", firstPollMs: 5_000, ending: COUNTED },
  training: { async: "always", firstPollMs: 10_000 },
  caption: VIDEO_OPERATION,
  upscale: VIDEO_OPERATION,
  removeBackground: VIDEO_OPERATION,
  /** `promptVersions` separate items under one taskUUID (prompt-enhancer docs; sdk-js collects that many). */
  promptEnhance: { async: "never", ending: { by: "count", field: "promptVersions" } },
  modelUpload: MODEL_UPLOAD,
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
  if (!kind || kind.async === "never") return false;
  return kind.async === "always" || hasVideoInput(task);
}

/** The first poll's delay for an async task of this type; `fallbackMs` for other types. */
export function firstPollMs(taskType: string, fallbackMs: number): number {
  return kindOf(taskType)?.firstPollMs ?? fallbackMs;
}
