/**
 * The local token on the loopback listener (issue 17; docs/local-api.md §7). File permissions
 * guard the Unix socket; on TCP every request shows the token: `Authorization: Bearer <token>`,
 * or, as Runware's REST API allows, an `authentication` task first in the array with the token as
 * its `apiKey`; on the WebSocket, the `authentication` task's `apiKey`, before any other task.
 * Failures are counted and logged (never what was sent); in a burst their answers are slowed
 * (auth-throttle.ts), never the right token's.
 */
import type { IncomingMessage } from "node:http";
import type { RunwareErrorObject } from "../errors.js";
import type { Logger } from "../log.js";
import { AuthThrottle } from "./auth-throttle.js";
import { TokenCheck } from "./token.js";

/** Runware's answer to a bad key (docs/protocol.md §2.2), for a missing or wrong token. */
export function invalidToken(why: string): RunwareErrorObject {
  return {
    code: "invalidApiKey",
    message: `${why} (the daemon's local token: its --token-file)`,
    parameter: "apiKey",
    taskType: "authentication",
  };
}

export class TcpGate {
  private readonly check: TokenCheck;
  private readonly throttle = new AuthThrottle();
  /** Delays in progress, cleared at close (each resolves as a failure). */
  private readonly waits = new Map<NodeJS.Timeout, () => void>();
  private closed = false;

  constructor(
    token: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.check = new TokenCheck(token);
  }

  /** Failed checks since start. */
  get failures(): number {
    return this.throttle.total;
  }

  /**
   * Whether `given` is the token. The right one is never delayed; a failure is counted, logged,
   * and answered after the throttle's delay (auth-throttle.ts).
   */
  async verify(given: unknown, via: "http" | "websocket"): Promise<boolean> {
    if (this.closed) return false;
    if (this.check.matches(given)) return true;
    const now = this.now();
    this.throttle.failed(now);
    this.log.warn(
      { via, failures: this.throttle.total, recent: this.throttle.recent(now), presented: given !== undefined },
      "local token check failed on the TCP listener",
    );
    const delay = this.throttle.delay(now);
    if (delay > 0) await this.wait(delay);
    return false;
  }

  /** Resolves false if the gate closes first. */
  private wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        resolve(true);
      }, ms);
      this.waits.set(timer, () => resolve(false));
    });
  }

  close(): void {
    this.closed = true;
    for (const [timer, cancel] of this.waits) {
      clearTimeout(timer);
      cancel();
    }
    this.waits.clear();
  }
}

/** The token of an `Authorization: Bearer <token>` header; undefined without one. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(h);
  return m?.[1] ?? "";
}

/**
 * A POST body that starts with an `authentication` task: the rest of the batch if its `apiKey` is
 * the token, false if it is not, undefined when the body has no such task.
 */
export async function authenticatedBody(body: unknown, gate: TcpGate): Promise<unknown[] | false | undefined> {
  const first: unknown = Array.isArray(body) ? body[0] : undefined;
  if (typeof first !== "object" || first === null || (first as { taskType?: unknown }).taskType !== "authentication") return undefined;
  return (await gate.verify((first as { apiKey?: unknown }).apiKey, "http")) ? (body as unknown[]).slice(1) : false;
}

/** A task sent on a TCP WebSocket before its authentication succeeded: refused, not run. */
export function notYet(task: Record<string, unknown> | undefined): RunwareErrorObject {
  const e: RunwareErrorObject = {
    code: "missingApiKey",
    message: "authenticate first: an authentication task with the daemon's local token as its apiKey",
  };
  if (typeof task?.["taskUUID"] === "string") e.taskUUID = task["taskUUID"];
  if (typeof task?.["taskType"] === "string") e.taskType = task["taskType"];
  return e;
}

/** The largest frame taken before authentication (an authentication task or a ping is a few hundred bytes). */
export const MAX_BYTES_BEFORE_AUTH = 64 * 1024;
/** Frames a connection may send before its authentication has been answered; past that it is closed. */
export const MAX_FRAMES_BEFORE_AUTH = 16;

/**
 * One TCP WebSocket's authentication: frames before it succeeds are handled in order, one after
 * another (a failed check waits for the throttle); a wrong token, or more than
 * MAX_FRAMES_BEFORE_AUTH frames waiting, closes the connection (1008) and nothing after it is looked at.
 */
export class WsAuth {
  done = false;
  refused = false;
  private waiting = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly gate: TcpGate,
    private readonly ws: { close(code: number, reason: string): void },
  ) {}

  /** Runs `fn` after every frame before it (never once the connection is refused). */
  inOrder(fn: () => Promise<void>): void {
    if (this.refused) return;
    if (++this.waiting > MAX_FRAMES_BEFORE_AUTH) return this.refuse("too many frames before authentication");
    this.chain = this.chain
      .then(() => (this.refused ? undefined : fn()))
      .catch(() => this.ws.close(1011, "internal error"))
      .finally(() => this.waiting--);
  }

  async verify(apiKey: unknown): Promise<boolean> {
    this.done = await this.gate.verify(apiKey, "websocket");
    return this.done;
  }

  refuse(reason = "invalid token"): void {
    this.refused = true;
    this.ws.close(1008, reason);
  }
}
