/**
 * The tasks waiting for an in-flight slot, counted by bytes as well (the queue's byte budget,
 * admission.ts). New work joins its caller's line at the back, a retry at the front (queue.ts).
 * An async task also needs room under maxAsync: taken while there is none, it steps aside into a
 * line of its own, first served when room comes, so the sync work behind it goes on.
 */
import { FairQueue } from "./queue.js";
import type { TaskRecord } from "./task.js";

export class WaitingLine {
  private readonly queue = new FairQueue<TaskRecord>();
  /** Async tasks that found no room under maxAsync. */
  private readonly asyncLine = new FairQueue<TaskRecord>();
  /** Bytes of the encoded tasks waiting. */
  private total = 0;

  get size(): number {
    return this.queue.size + this.asyncLine.size;
  }

  get bytes(): number {
    return this.total;
  }

  push(t: TaskRecord, where: "back" | "front"): void {
    if (where === "back") this.queue.push(t.client, t);
    else this.queue.unshift(t.client, t);
    this.total += t.bytes;
  }

  /** Out of line (it ended while waiting); false when it was not waiting. */
  remove(t: TaskRecord): boolean {
    if (!this.queue.remove(t.client, t) && !this.asyncLine.remove(t.client, t)) return false;
    this.total -= t.bytes;
    return true;
  }

  /** The next task to take a free slot; `asyncRoom`: whether an async task may start now. */
  take(asyncRoom: boolean): TaskRecord | undefined {
    for (;;) {
      const t = asyncRoom && this.asyncLine.size > 0 ? this.asyncLine.shift() : this.queue.shift();
      if (!t) return undefined;
      if (t.async && !t.holdsAsync && !asyncRoom) {
        this.asyncLine.push(t.client, t);
        continue;
      }
      this.total -= t.bytes;
      return t;
    }
  }
}
