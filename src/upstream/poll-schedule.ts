/**
 * When each task's next getResponse goes out, with one timer for all of them (docs/protocol.md
 * §4.4). The delays grow ×pollFactor from a first delay (per task kind: protocol/task-kinds.ts) up
 * to pollMaxMs, each shortened by up to 20 % at random (jitter: tasks started together drift
 * apart instead of polling in lockstep forever). When the timer fires, every task due within the
 * next quarter of the cap is polled too, so the polls of many tasks leave in one frame (the
 * outbox packs what is owed in one turn) and no task is polled more often than its own delay
 * allows by more than that quarter. Pure logic over an injected clock and random source.
 */
import { firstPollMs } from "../protocol/task-kinds.js";
import type { RandomSource } from "./backoff.js";
import type { Clock, Timer } from "../util/clock.js";

export interface PollPolicy {
  pollInitialMs: number;
  pollFactor: number;
  pollMaxMs: number;
}

/** At most this share of a delay is taken off at random. */
export const POLL_JITTER = 0.2;
/** Tasks due within this share of the cap are polled with the one that is due. */
export const POLL_COALESCE = 0.25;

/** The first nominal delay: the kind's, never past the cap. */
export function firstDelay(kindMs: number, policy: PollPolicy): number {
  return Math.min(kindMs, policy.pollMaxMs);
}

/** A task's first nominal delay: an async one its kind's (protocol/task-kinds.ts) within the cap, others pollInitialMs. */
export function firstPoll(async: boolean, taskType: string, policy: PollPolicy): number {
  return async ? firstDelay(firstPollMs(taskType, policy.pollInitialMs), policy) : policy.pollInitialMs;
}

/** The nominal delay after `nominal`: ×pollFactor, capped. */
export function nextDelay(nominal: number, policy: PollPolicy): number {
  return Math.min(policy.pollMaxMs, nominal * policy.pollFactor);
}

/** The wait actually armed for a nominal delay: up to POLL_JITTER shorter. */
export function jittered(nominal: number, random: RandomSource): number {
  return Math.round(nominal * (1 - POLL_JITTER * random()));
}

/** A task's place in the schedule (fields on the task record: no allocation per poll but the heap entry). */
export interface PollNode {
  /** Bumped on every schedule and removal: heap entries of an older generation are stale. */
  pollGen: number;
  pollScheduled: boolean;
}

interface Entry<T> {
  node: T;
  at: number;
  gen: number;
}

export class PollSchedule<T extends PollNode> {
  /** A binary min-heap by `at`; removed nodes leave stale entries, skipped when they surface. */
  private heap: Entry<T>[] = [];
  private live = 0;
  private timer: Timer | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  /**
   * @param coalesceMs entries due within this of the firing time are handed over with it
   * @param onDue called with every node due, in one call per firing (same event-loop turn)
   */
  constructor(
    private readonly clock: Clock,
    private readonly coalesceMs: number,
    private readonly onDue: (nodes: T[]) => void,
  ) {}

  /** Number of nodes scheduled. */
  get size(): number {
    return this.live;
  }

  /** (Re)schedule `node` for `delayMs` from now. */
  schedule(node: T, delayMs: number): void {
    if (node.pollScheduled) this.live--;
    node.pollGen++;
    node.pollScheduled = true;
    this.live++;
    const at = this.clock.now() + Math.max(0, delayMs);
    this.push({ node, at, gen: node.pollGen });
    if (at < this.armedFor) this.arm();
  }

  remove(node: T): void {
    if (!node.pollScheduled) return;
    node.pollScheduled = false;
    node.pollGen++;
    this.live--;
    if (this.live === 0) this.stop();
  }

  /** Drop everything and clear the timer. */
  stop(): void {
    for (const e of this.heap) {
      if (e.gen === e.node.pollGen) e.node.pollScheduled = false;
    }
    this.heap = [];
    this.live = 0;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    this.dropStale();
    const top = this.heap[0];
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (!top) return;
    this.armedFor = top.at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, top.at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const horizon = this.clock.now() + this.coalesceMs;
    const due: T[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.at > horizon) break;
      this.pop();
      top.node.pollScheduled = false;
      top.node.pollGen++;
      this.live--;
      due.push(top.node);
    }
    this.arm();
    if (due.length > 0) this.onDue(due);
  }

  private dropStale(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0] as Entry<T>;
      if (top.gen === top.node.pollGen) return;
      this.pop();
    }
  }

  private push(e: Entry<T>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p] as Entry<T>).at <= e.at) break;
      h[i] = h[p] as Entry<T>;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Entry<T>;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && (h[r] as Entry<T>).at < (h[l] as Entry<T>).at ? r : l;
      if ((h[c] as Entry<T>).at >= last.at) break;
      h[i] = h[c] as Entry<T>;
      i = c;
    }
    h[i] = last;
  }
}
