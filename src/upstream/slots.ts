/**
 * What a running task holds, counted once and given back once (docs/local-api.md §3.6, §2.8): an
 * in-flight slot from leaving the queue until its end (an async task: until Runware acknowledges
 * it), and an async task also a place under maxAsync from leaving the queue until its end or a
 * retry's wait. Acknowledged, an async task is polled work, not in-flight work.
 */
import type { TaskRecord } from "./task.js";

export class Slots {
  /** Tasks holding an in-flight slot (`holdsSlot`). */
  inFlight = 0;
  /** Async tasks holding a place under maxAsync (`holdsAsync`). */
  async = 0;

  constructor(private readonly limits: { readonly maxInFlight: number; readonly maxAsync: number }) {}

  /** Whether a queued task may leave the queue now. */
  get free(): boolean {
    return this.inFlight < this.limits.maxInFlight;
  }

  /** Whether an async task may start now (waiting.ts sets the others aside). */
  get asyncRoom(): boolean {
    return this.async < this.limits.maxAsync;
  }

  /** The task leaves the queue: a slot, and an async task its place under maxAsync. */
  take(t: TaskRecord): void {
    this.holdAsync(t);
    this.inFlight++;
    t.holdsSlot = true;
  }

  /** An async task's place under maxAsync (also for one asked about again: engine.reopen). */
  holdAsync(t: TaskRecord): void {
    if (!t.async || t.holdsAsync) return;
    t.holdsAsync = true;
    this.async++;
  }

  /** Runware has the async task: its slot goes back, its place under maxAsync stays. True if a slot was freed. */
  acked(t: TaskRecord): boolean {
    if (!t.holdsSlot) return false;
    t.holdsSlot = false;
    this.inFlight--;
    return true;
  }

  /** Everything back (at the end, or for a retry's wait). True if anything was freed. */
  release(t: TaskRecord): boolean {
    let freed = this.acked(t);
    if (t.holdsAsync) {
      t.holdsAsync = false;
      this.async--;
      freed = true;
    }
    return freed;
  }
}
