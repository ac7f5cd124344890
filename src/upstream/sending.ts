/**
 * Which task goes upstream when (docs/local-api.md §3.6, §2.8): the fair queue of waiting tasks
 * (waiting.ts), the in-flight slots and async places they take (slots.ts), and the outbox that packs
 * what is owed into frames at each flush (outbox.ts). A task leaves the queue only here; its phase
 * changes through the engine's `moveTo()`.
 */
import type { Logger } from "../log.js";
import type { EngineLink } from "./link.js";
import type { Phase } from "./lifecycle.js";
import type { EngineOptions } from "./options.js";
import { Outbox, type OutItem } from "./outbox.js";
import { Slots } from "./slots.js";
import { pollFrame, submission, type TaskRecord } from "./task.js";
import { WaitingLine } from "./waiting.js";

export class Sending {
  readonly waiting = new WaitingLine();
  readonly slots: Slots;
  readonly outbox: Outbox;

  constructor(
    link: EngineLink,
    opts: EngineOptions,
    log: Logger,
    private readonly moveTo: (t: TaskRecord, to: Phase, reason: string) => void,
  ) {
    this.slots = new Slots(opts);
    this.outbox = new Outbox(
      link,
      {
        highWaterBytes: opts.sendHighWaterBytes,
        maxFrameBytes: opts.maxFrameBytes,
        logger: log,
        ...(opts.beforeSend ? { beforeSend: opts.beforeSend } : {}),
      },
      (frames, epoch) => this.takeFromQueue(frames, epoch),
    );
  }

  /** Into the queue: new work at the back of its caller's line, a retry at the front. */
  enqueue(t: TaskRecord, where: "back" | "front"): void {
    this.waiting.push(t, where);
    this.outbox.request();
  }

  /** A frame owed by a task (a submission, or a poll: slot or not); dropped if the task has moved on by the flush. */
  owe(t: TaskRecord, kind: "submit" | "poll"): void {
    const moves = t.moves;
    this.outbox.owe((epoch) => {
      if (t.moves !== moves) return undefined;
      t.sentEpoch = epoch;
      return kind === "poll" ? pollFrame(t) : submission(t);
    });
  }

  /** Runware has the async task: its slot serves the queue, its place under maxAsync stays. */
  acked(t: TaskRecord): void {
    if (this.slots.acked(t)) this.outbox.request();
  }

  /** The task ended or waits to retry: out of the queue, its slot and async place given back. */
  release(t: TaskRecord): void {
    if (t.phase === "queued") this.waiting.remove(t);
    if (this.slots.release(t)) this.outbox.request();
  }

  /** Queued tasks take the free slots at each flush of the outbox; an async one also a place under maxAsync (waiting.ts). */
  private takeFromQueue(items: OutItem[], epoch: number): void {
    while (this.slots.free) {
      const t = this.waiting.take(this.slots.asyncRoom);
      if (!t) break;
      if (t.outcome || t.holdsSlot) continue; // defensive: never twice, never after the end
      this.slots.take(t);
      this.moveTo(t, "sent", "an in-flight slot is free");
      t.sentEpoch = epoch;
      items.push(submission(t));
    }
  }
}
