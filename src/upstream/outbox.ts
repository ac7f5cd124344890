/**
 * Frames on their way upstream. Everything owed within one event-loop turn leaves on the next,
 * packed into as few frames as fit under `maxFrameBytes` (Runware takes an array of tasks per
 * message, docs/protocol.md §1, and documents no size limit: ours is a setting): measured, 23,000
 * single-task requests went out in 3,183 frames and the daemon's CPU per task fell 10-15 %
 * (docs/benchmarks.md). Past the socket's high-water mark it waits for the write to finish.
 */
import type { Logger } from "../log.js";
import type { EngineLink } from "./link.js";

/** One task on its way: its encoded text, and what to tell it once its frame is written. */
export interface OutItem {
  readonly text: string;
  /** The frame holding it was handed to the socket whole (ws's send callback without an error). */
  readonly written?: () => void;
}

/** Builds one owed item at flush time, for the link's current epoch; undefined: no longer owed. */
export type OwedFrame = (epoch: number) => OutItem | undefined;

export interface OutboxOptions {
  /** Stop writing while this many bytes are queued in the socket. */
  highWaterBytes: number;
  /** No frame is larger: encoded tasks are packed up to it (each task alone fits: prepare.ts). */
  maxFrameBytes: number;
  logger: Logger;
  /** Called once per flush before anything is written: the journal commits what must precede the send. */
  beforeSend?: () => void;
}

/** The frame limit is never lowered below this by `tooBig()`. */
const MIN_FRAME_BYTES = 64 * 1024;

export class Outbox {
  private owed: OwedFrame[] = [];
  private awaitingWrite = false;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  /** The frame size limit in force: `maxFrameBytes`, lowered when the far end refuses a frame. */
  private limit: number;
  /** Largest frame written on `largestEpoch`, for `tooBig()`. */
  private largest = 0;
  private largestEpoch = -1;

  /**
   * @param takeNew called at each flush, after the owed frames: appends new work (queued tasks taking
   *   free slots) for `epoch` to `frames`.
   */
  constructor(
    private readonly link: EngineLink,
    private readonly opts: OutboxOptions,
    private readonly takeNew: (items: OutItem[], epoch: number) => void,
  ) {
    this.limit = opts.maxFrameBytes;
  }

  get frameLimit(): number {
    return this.limit;
  }

  /**
   * The link of `epoch` was closed with 1009: the far end's message limit is below ours. Frames
   * from now on are at most half the largest one written on that link (never under 64 KiB; a task
   * larger than the limit still goes alone). Returns the new limit.
   */
  tooBig(epoch: number): number {
    const largest = this.largestEpoch === epoch ? this.largest : this.limit;
    this.limit = Math.max(MIN_FRAME_BYTES, Math.min(this.limit, Math.floor(largest / 2)));
    return this.limit;
  }

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
    const items: OutItem[] = [];
    const owed = this.owed;
    this.owed = [];
    for (const make of owed) {
      const item = make(epoch);
      if (item !== undefined) items.push(item);
    }
    this.takeNew(items, epoch);
    if (items.length > 0) this.opts.beforeSend?.();
    const frames = pack(items, this.limit);
    frames.forEach((frame, i) => {
      if (this.opts.logger.isLevelEnabled("trace"))
        this.opts.logger.trace({ bytes: frame.text.length, tasks: frame.items.length }, "frame out");
      if (this.largestEpoch !== epoch) {
        this.largestEpoch = epoch;
        this.largest = 0;
      }
      this.largest = Math.max(this.largest, frame.text.length);
      const wait = i === frames.length - 1 && this.link.bufferedAmount + frame.text.length > this.opts.highWaterBytes;
      if (wait) this.awaitingWrite = true;
      this.link.send(frame.text, (err) => {
        if (!err) for (const item of frame.items) item.written?.();
        if (!wait) return;
        this.awaitingWrite = false;
        this.request();
      });
    });
  }
}

export interface Frame {
  readonly text: string;
  readonly items: readonly OutItem[];
}

/** Items joined into JSON arrays of at most `maxBytes` UTF-8 bytes each, in order. */
export function pack(items: readonly OutItem[], maxBytes: number): Frame[] {
  const frames: Frame[] = [];
  let part: OutItem[] = [];
  let size = 2; // "[" and "]"
  const close = () => {
    frames.push({ text: `[${part.map((p) => p.text).join(",")}]`, items: part });
    part = [];
    size = 2;
  };
  for (const item of items) {
    const bytes = Buffer.byteLength(item.text);
    if (part.length > 0 && size + 1 + bytes > maxBytes) close();
    size += (part.length > 0 ? 1 : 0) + bytes;
    part.push(item);
  }
  if (part.length > 0) close();
  return frames;
}
