/**
 * An upstream link driven by hand: the engine runs against it with no socket at all, and a test
 * says exactly when the link is up, when it drops, and what Runware answers (the frame goes through
 * the real codec). Every frame the engine writes is kept, parsed.
 */
import { EventEmitter } from "eventemitter3";
import { randomUUID } from "node:crypto";
import { splitFrame } from "../../src/protocol/codec.js";
import type { ConnectionEvents } from "../../src/upstream/connection.js";
import type { EngineLink } from "../../src/upstream/link.js";
import { isWritable, type ConnState } from "../../src/upstream/state.js";

export type SentTask = { taskType: string; taskUUID: string; [k: string]: unknown };

export class FakeLink extends EventEmitter<ConnectionEvents> implements EngineLink {
  state: ConnState = "closed";
  epoch = 0;
  bufferedAmount = 0;
  sessionUUID: string | undefined;
  connectedSince: number | undefined;
  reconnects = 0;
  lastError: string | undefined;
  /** Every task the engine wrote, in order, with the epoch it went out on. */
  readonly sent: Array<SentTask & { epoch: number }> = [];
  /** Every frame the engine wrote, as text. */
  readonly frames: string[] = [];
  /** While true, writes are not reported done: a down() then fails them, as a dropped socket does. */
  holdWrites = false;
  private held: Array<(err?: Error) => void> = [];

  get writable(): boolean {
    return isWritable(this.state);
  }

  start(): void {}

  send(text: string, onWritten?: (err?: Error) => void): void {
    this.frames.push(text);
    for (const t of JSON.parse(text) as SentTask[]) this.sent.push({ ...t, epoch: this.epoch });
    if (!onWritten) return;
    if (this.holdWrites) this.held.push(onWritten);
    else queueMicrotask(() => onWritten());
  }

  drain(): void {
    if (this.state === "ready") this.state = "draining";
  }

  close(): Promise<void> {
    this.state = "closed";
    return Promise.resolve();
  }

  /** Authenticated on a new socket; `resumed` says Runware kept the session. */
  up(resumed = false): void {
    this.epoch++;
    if (!resumed || !this.sessionUUID) this.sessionUUID = randomUUID();
    this.state = "ready";
    this.emit("ready", { sessionUUID: this.sessionUUID, resumed, epoch: this.epoch });
  }

  /** The live socket is gone (`code`: its close code, e.g. 1009); writes still held fail. */
  down(reason = "test cut", code?: number): void {
    this.state = "backoff";
    const held = this.held;
    this.held = [];
    for (const cb of held) cb(new Error("socket closed before the write finished"));
    this.emit("down", this.epoch, reason, code);
  }

  /** A frame from Runware, as text through the real codec. */
  reply(frame: unknown): void {
    this.emit("frame", splitFrame(JSON.stringify(frame)));
  }

  /** Tasks written so far of a UUID, by task type. */
  sentFor(taskUUID: string, taskType?: string): Array<SentTask & { epoch: number }> {
    return this.sent.filter((t) => t.taskUUID === taskUUID && (taskType === undefined || t.taskType === taskType));
  }
}
