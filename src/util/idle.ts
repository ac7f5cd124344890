/** Waiting until something is idle, or until a timeout (a drain's wait for its pending work). */
import type { Clock, Timer } from "./clock.js";

export class IdleSignal {
  private waiters: Array<() => void> = [];

  /** Resolves at the next `idle()` or after `timeoutMs`, whichever comes first; clears its timer. */
  async wait(clock: Clock, timeoutMs: number): Promise<void> {
    let timer: Timer | undefined;
    await Promise.race([
      new Promise<void>((r) => this.waiters.push(r)),
      new Promise<void>((r) => {
        timer = clock.setTimeout(r, timeoutMs);
      }),
    ]);
    clock.clearTimeout(timer);
  }

  /** It is idle now: wake every waiter. */
  idle(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
