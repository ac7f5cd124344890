/**
 * At most one log line per interval for a recurring event, with how many were held back: a peer
 * sending 100,000 bad frames must not write 100,000 lines (15 MB; docs/reliability.md).
 */
import type { Clock } from "./clock.js";

export class EveryInterval {
  private last = Number.NEGATIVE_INFINITY;
  private held = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Pick<Clock, "now">,
  ) {}

  /**
   * Call at each occurrence. Returns undefined when this one is held back, else how many were
   * held back since the last one let through (0 for the first).
   */
  hit(): number | undefined {
    const now = this.clock.now();
    if (now - this.last < this.intervalMs) {
      this.held++;
      return undefined;
    }
    this.last = now;
    const held = this.held;
    this.held = 0;
    return held;
  }
}
