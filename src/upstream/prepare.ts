/**
 * A task is encoded once, when it is accepted: the text is what goes upstream on every send (the
 * object is not kept), its size is what the byte budgets count, and a task that cannot be encoded
 * (say, nested too deep for JSON.stringify) fails alone, at the door, never in the send loop.
 */
import { randomUUID } from "node:crypto";
import type { Task } from "../protocol/schemas.js";
import { reportsCost } from "../protocol/cost.js";
import { runsAsync } from "../protocol/task-kinds.js";
import { TaskEncodingError, TaskTooLargeError } from "./errors.js";

export interface PreparedTask {
  readonly taskUUID: string;
  readonly taskType: string;
  /** The task as the caller gave it, with its taskUUID: read once for its kind, then dropped. */
  readonly frame: Task;
  /** The task as sent upstream: one element of a frame's JSON array. */
  readonly text: string;
  /** `text`'s size in UTF-8 bytes. */
  readonly bytes: number;
  /** The daemon added `deliveryMethod: "async"` by the task's kind (protocol/task-kinds.ts): the caller did not ask. */
  readonly asyncByDefault: boolean;
  /** The daemon set `includeCost: true` (protocol/cost.ts), the caller did not: its answers leave `cost` out. */
  readonly costHidden: boolean;
}

class Prepared implements PreparedTask {
  constructor(
    readonly taskUUID: string,
    readonly taskType: string,
    readonly frame: Task,
    readonly text: string,
    readonly bytes: number,
    readonly asyncByDefault: boolean,
    readonly costHidden: boolean,
  ) {}
}

export interface PrepareLimits {
  /** The largest upstream frame; a task must fit in one alone (with its `[` and `]`). */
  maxFrameBytes: number;
  /** The queue's byte budget; a task larger than all of it can never be queued. */
  maxQueuedBytes: number;
}

export function prepareTask(input: Omit<Task, "taskUUID"> & { taskUUID?: string }, limits: PrepareLimits): PreparedTask {
  const taskUUID = input.taskUUID ?? randomUUID();
  // Runware runs this kind async: sent so when the caller gave no deliveryMethod (docs/protocol.md §4.5).
  const asyncByDefault = input["deliveryMethod"] === undefined && runsAsync(input as Task);
  // Every task that reports a cost asks for it: spend is counted for all (protocol/cost.ts).
  const costHidden = input["includeCost"] !== true && reportsCost(String(input.taskType));
  // The caller's object is the frame as it is (no copy per task) unless a field must be added.
  const frame = (
    asyncByDefault || costHidden
      ? { ...input, taskUUID, ...(asyncByDefault ? { deliveryMethod: "async" } : {}), ...(costHidden ? { includeCost: true } : {}) }
      : input.taskUUID
        ? input
        : { ...input, taskUUID }
  ) as Task;
  let text: string;
  try {
    text = JSON.stringify(frame);
  } catch (err) {
    throw new TaskEncodingError(taskUUID, (err as Error).message);
  }
  const bytes = Buffer.byteLength(text);
  if (bytes + 2 > limits.maxFrameBytes) throw new TaskTooLargeError(taskUUID, bytes, limits.maxFrameBytes, "frame");
  if (bytes > limits.maxQueuedBytes) throw new TaskTooLargeError(taskUUID, bytes, limits.maxQueuedBytes, "queue");
  return new Prepared(taskUUID, frame.taskType, frame, text, bytes, asyncByDefault, costHidden);
}

/** A task already through `prepareTask` (its encoded text travels with it). */
export function isPrepared(x: object): x is PreparedTask {
  return x instanceof Prepared;
}
