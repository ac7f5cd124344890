/**
 * Task deadlines with one timer instead of one per task. Every task gets the same timeout, so
 * deadlines arrive in submit order: a FIFO, intrusive doubly linked list (O(1) add and remove) with
 * a single timer armed for its head. At 20,000 pending tasks that is one timer, not 20,000.
 */
import type { Clock, Timer } from "../util/clock.js";

export interface DeadlineNode {
  deadlineAt: number;
  dlPrev: DeadlineNode | undefined;
  dlNext: DeadlineNode | undefined;
  /** True while the node is in a list. */
  dlLinked: boolean;
}

export class DeadlineList<T extends DeadlineNode> {
  private head: T | undefined;
  private tail: T | undefined;
  private timer: Timer | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private count = 0;
  /** Expired, to be handed to `onExpire` after this turn's I/O. */
  private expired: T[] = [];
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly onExpire: (node: T) => void,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Append a node due at `at` (callers add in non-decreasing `at` order: one timeout for all). */
  add(node: T, at: number): void {
    node.deadlineAt = at;
    node.dlPrev = this.tail;
    node.dlNext = undefined;
    node.dlLinked = true;
    if (this.tail) this.tail.dlNext = node;
    else this.head = node;
    this.tail = node;
    this.count++;
    if (node === this.head) this.arm();
  }

  remove(node: T): void {
    if (!node.dlLinked) return;
    const wasHead = node === this.head;
    this.unlink(node);
    if (wasHead) this.arm();
  }

  private unlink(node: T): void {
    if (node.dlPrev) node.dlPrev.dlNext = node.dlNext;
    else this.head = node.dlNext as T | undefined;
    if (node.dlNext) node.dlNext.dlPrev = node.dlPrev;
    else this.tail = node.dlPrev as T | undefined;
    node.dlPrev = node.dlNext = undefined;
    node.dlLinked = false;
    this.count--;
  }

  /** Stop the timer (the list's nodes stay; callers settle them; expired ones not yet handed over are dropped). */
  stop(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.expired = [];
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  /** Keep the timer armed for the head; re-arming only when the head's deadline moved. */
  private arm(): void {
    const at = this.head?.deadlineAt;
    if (at === undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.timer !== undefined && this.armedFor <= at) return; // fires early, re-checks then
    this.clock.clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  /**
   * Expired nodes are handed over on the check phase of the event loop, after its I/O: a process
   * stopped (SIGSTOP, a debugger, a swapped-out machine) past the timeout wakes with this timer due
   * and the answers waiting in its sockets, and those are read first (the caller skips nodes that
   * ended meanwhile).
   */
  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    while (this.head && this.head.deadlineAt <= now) {
      const node = this.head;
      this.unlink(node);
      this.expired.push(node);
    }
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      const due = this.expired;
      this.expired = [];
      for (const node of due) this.onExpire(node);
    });
    this.arm();
  }
}
