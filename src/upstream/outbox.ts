/**
 * Frames on their way upstream. Everything owed within one event-loop turn leaves in one frame on
 * the next (Runware takes an array of tasks per message, docs/protocol.md §1): measured, 23,000
 * single-task requests went out in 3,183 frames and the daemon's CPU per task fell 10-15 %
 * (docs/benchmarks.md). Past the socket's high-water mark it waits for the write to finish.
 */
import { encodeTasks } from "../protocol/codec.js";
import type { Logger } from "../log.js";
import type { EngineLink } from "./link.js";

/** Builds one owed frame at flush time, for the link's current epoch; undefined: no longer owed. */
export type OwedFrame = (epoch: number) => object | undefined;

export interface OutboxOptions {
  /** Stop writing while this many bytes are queued in the socket. */
  highWaterBytes: number;
  logger: Logger;
}

export class Outbox {
  private owed: OwedFrame[] = [];
  private awaitingWrite = false;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;

  /**
   * @param takeNew called at each flush, after the owed frames: appends new work (queued tasks taking
   *   free slots) for `epoch` to `frames`.
   */
  constructor(
    private readonly link: EngineLink,
    private readonly opts: OutboxOptions,
    private readonly takeNew: (frames: object[], epoch: number) => void,
  ) {}

  /** A frame owed by a task that already holds its slot (a resubmission, a poll). */
  owe(frame: OwedFrame): void {
    this.owed.push(frame);
    this.request();
  }

  /** Flush on the next turn, once, however often this is called in this one. */
  request(): void {
    if (this.immediate || this.closed) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.flush();
    });
  }

  /** The link went down: owed frames are rebuilt from each task's phase when it is back. */
  linkDown(): void {
    this.owed = [];
    this.awaitingWrite = false;
  }

  close(): void {
    this.closed = true;
    this.owed = [];
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  private flush(): void {
    if (!this.link.writable || this.awaitingWrite) return;
    const epoch = this.link.epoch;
    const frames: object[] = [];
    const owed = this.owed;
    this.owed = [];
    for (const make of owed) {
      const frame = make(epoch);
      if (frame) frames.push(frame);
    }
    this.takeNew(frames, epoch);
    if (frames.length === 0) return;
    const text = encodeTasks(frames);
    if (this.opts.logger.isLevelEnabled("trace")) this.opts.logger.trace({ tasks: frames.length, bytes: text.length }, "frame out");
    if (this.link.bufferedAmount + text.length <= this.opts.highWaterBytes) {
      this.link.send(text);
      return;
    }
    this.awaitingWrite = true;
    this.link.send(text, () => {
      this.awaitingWrite = false;
      this.request();
    });
  }
}
