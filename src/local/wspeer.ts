/**
 * One local WebSocket connection as the daemon writes to it (docs/local-api.md §2.6): every frame
 * is encoded here (encode.ts: one that cannot be becomes its task's error) and goes through the
 * clients' byte budget (unsent.ts). A client that stops reading is not written to past its budget:
 * it is closed with 1008 and a `clientTooSlow` reason, queued after what it has not read yet; ws
 * cuts the connection if the close is not answered within its close timeout (`slowClientGraceMs`).
 * Its tasks keep running and stay readable by UUID. What it sends is counted against the reading
 * budget (budget.ts) while a message is incomplete; past it the connection is closed with 1013.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { RunwareErrorObject } from "../errors.js";
import type { Logger } from "../log.js";
import type { ByteBudget } from "./budget.js";
import { encode } from "./encode.js";
import { CLIENT_TOO_SLOW_CODE, type LocalClient, type UnsentBudget } from "./unsent.js";

/** WebSocket close codes: policy violation (not reading), try again later (reading budget full). */
export const CLOSE_TOO_SLOW = 1008;
export const CLOSE_TRY_LATER = 1013;
/** A close reason is at most 123 bytes (RFC 6455 §5.5). */
const MAX_REASON = 123;

export class WsPeer implements LocalClient {
  private cutOnce = false;
  private gone = false;
  private readonly forget: () => void;

  constructor(
    private readonly ws: WebSocket,
    private readonly budget: UnsentBudget,
    private readonly log: Logger,
  ) {
    this.forget = budget.add(this);
    ws.once("close", () => this.forget());
  }

  unsent(): number {
    return this.gone || this.ws.readyState === this.ws.CLOSED ? 0 : this.ws.bufferedAmount;
  }

  /** Send one frame's text, within the budget. */
  send(frame: string): void {
    if (this.cutOnce || this.ws.readyState !== this.ws.OPEN) return;
    if (!this.budget.admit(this, frame.length)) return;
    this.ws.send(frame);
  }

  /** Send `value` as a frame; false (nothing sent) when it cannot be encoded. */
  sendJson(value: unknown): boolean {
    const text = encode(value);
    if (text === undefined) return false;
    this.send(text);
    return true;
  }

  sendErrors(errors: RunwareErrorObject[]): void {
    this.sendJson({ errors });
  }

  cut(reason: string): void {
    if (this.cutOnce) {
      this.gone = true;
      this.ws.terminate();
      return;
    }
    this.cutOnce = true;
    this.log.warn({ unsent: this.unsent(), reason }, "local websocket client too slow; closing it");
    this.ws.close(CLOSE_TOO_SLOW, `${CLIENT_TOO_SLOW_CODE}: ${reason}`.slice(0, MAX_REASON));
  }

  /**
   * Count the bytes of incomplete messages against `reading` (before ws buffers them); a message
   * that does not fit closes the connection with 1013. Released as each message completes.
   */
  countReading(socket: Duplex, reading: ByteBudget): void {
    const hold = reading.hold();
    const onData = (chunk: Buffer) => {
      if (hold.grow(chunk.length)) return;
      hold.release();
      socket.off("data", onData);
      this.log.warn({ reading: reading.inUse }, "local websocket message past the reading budget; closing");
      this.cutOnce = true;
      this.ws.close(
        CLOSE_TRY_LATER,
        `serverBusy: the daemon is reading ${reading.limit} bytes of requests already; retry`.slice(0, MAX_REASON),
      );
      // Nothing more of it is read: what it was sending would be buffered whole by ws.
      setImmediate(() => this.ws.terminate());
    };
    socket.prependListener("data", onData);
    this.ws.on("message", () => hold.release());
    this.ws.once("close", () => {
      socket.off("data", onData);
      hold.release();
    });
  }
}
