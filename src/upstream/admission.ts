/**
 * Whether a batch fits in the queue now, by count and by bytes, as a whole (a batch is accepted
 * entirely or not at all, docs/local-api.md §2.3). Pure: the engine passes what is queued.
 */
import type { RunwareDaemonError } from "../errors.js";
import { BatchTooLargeError, QueueFullError } from "./errors.js";

export interface QueueLimits {
  maxQueued: number;
  maxQueuedBytes: number;
}

/** Undefined when it fits; `BatchTooLargeError` when it never could (split it); `QueueFullError` when not now. */
export function admission(
  batch: readonly { bytes: number }[],
  queued: { tasks: number; bytes: number },
  limits: QueueLimits,
): RunwareDaemonError | undefined {
  const bytes = batch.reduce((n, p) => n + p.bytes, 0);
  const { maxQueued, maxQueuedBytes } = limits;
  if (batch.length > maxQueued) {
    return new BatchTooLargeError(`the batch has ${batch.length} tasks, more than the queue holds (${maxQueued}); split it`);
  }
  if (bytes > maxQueuedBytes) {
    return new BatchTooLargeError(`the batch is ${bytes} bytes encoded, more than the queue holds (${maxQueuedBytes} bytes); split it`);
  }
  if (batch.length > maxQueued - queued.tasks) {
    return new QueueFullError(`the task queue is full (${queued.tasks} of ${maxQueued} tasks waiting); retry later`);
  }
  if (bytes > maxQueuedBytes - queued.bytes) {
    return new QueueFullError(`the task queue is full (${queued.bytes} of ${maxQueuedBytes} bytes waiting); retry later`);
  }
  return undefined;
}
