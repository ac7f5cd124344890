/**
 * Frames on their way upstream. Everything owed within one event-loop turn leaves on the next,
 * packed into as few frames as fit under `maxFrameBytes` (Runware takes an array of tasks per
 * message, docs/protocol.md §1, and documents no size limit: ours is a setting): measured, 23,000
 * single-task requests went out in 3,183 frames and the daemon's CPU per task fell 10-15 %
 * (docs/benchmarks.md). Past the socket's high-water mark it waits for the write to finish.
 */
import type { Logger } from "../log.js";
import type { EngineLink } from "./link.js";

/** Builds one owed task's text at flush time, for the link's current epoch; undefined: no longer owed. */
export type OwedFrame = (epoch: number) => string | undefined;

export interface OutboxOptions {
  /** Stop writing while this many bytes are queued in the socket. */
  highWaterBytes: number;
  /** No frame is larger: encoded tasks are packed up to it (each task alone fits: prepare.ts). */
  maxFrameBytes: number;
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
    private readonly takeNew: (tasks: string[], epoch: number) => void,
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
    const tasks: string[] = [];
    const owed = this.owed;
    this.owed = [];
    for (const make of owed) {
      const text = make(epoch);
      if (text !== undefined) tasks.push(text);
    }
    this.takeNew(tasks, epoch);
    const frames = pack(tasks, this.opts.maxFrameBytes);
    for (let i = 0; i < frames.length; i++) {
      const text = frames[i] as string;
      if (this.opts.logger.isLevelEnabled("trace")) this.opts.logger.trace({ bytes: text.length, frame: i }, "frame out");
      const last = i === frames.length - 1;
      if (!last || this.link.bufferedAmount + text.length <= this.opts.highWaterBytes) {
        this.link.send(text);
        continue;
      }
      this.awaitingWrite = true;
      this.link.send(text, () => {
        this.awaitingWrite = false;
        this.request();
      });
    }
  }
}

/** Encoded tasks joined into JSON arrays of at most `maxBytes` UTF-8 bytes each, in order. */
export function pack(tasks: readonly string[], maxBytes: number): string[] {
  const frames: string[] = [];
  let part: string[] = [];
  let size = 2; // "[" and "]"
  for (const text of tasks) {
    const bytes = Buffer.byteLength(text);
    if (part.length > 0 && size + 1 + bytes > maxBytes) {
      frames.push(`[${part.join(",")}]`);
      part = [];
      size = 2;
    }
    size += (part.length > 0 ? 1 : 0) + bytes;
    part.push(text);
  }
  if (part.length > 0) frames.push(`[${part.join(",")}]`);
  return frames;
}
