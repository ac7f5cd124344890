/**
 * Idle-aware liveness check with Runware's JSON ping (docs/protocol.md §2.5). Any inbound frame
 * proves life (`work()`), so a busy link is never pinged. A ping unanswered for `pongTimeoutMs` is a
 * miss and the next ping goes out at once; after `maxMissed` misses the link is stale. Worst case a
 * dead link is found `intervalMs + maxMissed × pongTimeoutMs` after the last frame. sdk-js pings on
 * a fixed 45 s interval and needs three misses: ~145 s (docs/protocol.md §10.2).
 */
import { systemClock, type Clock, type Timer } from "../util/clock.js";

export interface HeartbeatOptions {
  intervalMs: number;
  pongTimeoutMs: number;
  maxMissed: number;
}

export interface HeartbeatHooks {
  sendPing(): void;
  onStale(): void;
  /** A ping went unanswered (counted for metrics). */
  onMiss?(): void;
}

export class Heartbeat {
  private lastRx = 0;
  private missed = 0;
  private timer: Timer | undefined;
  private awaitingPong = false;

  constructor(
    private readonly opts: HeartbeatOptions,
    private readonly hooks: HeartbeatHooks,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Begin watching (after auth). Cancels first, so a restart can never leak a timer. */
  start(): void {
    this.stop();
    this.lastRx = this.clock.now();
    this.missed = 0;
    this.arm(this.opts.intervalMs);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.awaitingPong = false;
  }

  /** Something arrived: the link is alive. Cheap: no timer is touched on the hot path. */
  work(): void {
    this.lastRx = this.clock.now();
    this.missed = 0;
    this.awaitingPong = false;
  }

  /** Pongs missed since the last inbound frame. A link with a miss is not trusted for sends. */
  get missedPongs(): number {
    return this.missed;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  private arm(ms: number): void {
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, ms));
  }

  private tick(): void {
    this.timer = undefined;
    const idle = this.clock.now() - this.lastRx;
    if (this.awaitingPong) {
      // The ping went unanswered (work() would have cleared the flag).
      this.missed++;
      this.hooks.onMiss?.();
      if (this.missed >= this.opts.maxMissed) {
        this.awaitingPong = false;
        this.hooks.onStale();
        return;
      }
      this.ping();
      return;
    }
    if (idle < this.opts.intervalMs) {
      this.arm(this.opts.intervalMs - idle);
      return;
    }
    this.ping();
  }

  private ping(): void {
    this.awaitingPong = true;
    this.arm(this.opts.pongTimeoutMs);
    this.hooks.sendPing();
  }
}
