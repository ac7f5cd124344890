/**
 * The local token on the loopback listener (issue 17; docs/local-api.md §7). File permissions
 * guard the Unix socket; on TCP every request shows the token: `Authorization: Bearer <token>`,
 * or, as Runware's REST API allows, an `authentication` task first in the array with the token as
 * its `apiKey`; on the WebSocket, the `authentication` task's `apiKey`, before any other task.
 * Failures are counted and logged (never what was sent); a burst of them slows every attempt
 * (auth-throttle.ts).
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

  /** Whether `given` is the token, after the throttle's delay; a failure is counted and logged. */
  async verify(given: unknown, via: "http" | "websocket"): Promise<boolean> {
    const delay = this.throttle.delay(this.now());
    if (delay > 0 && !(await this.wait(delay))) return false;
    if (this.closed) return false;
    if (this.check.matches(given)) return true;
    this.throttle.failed(this.now());
    this.log.warn(
      { via, failures: this.throttle.total, recent: this.throttle.recent(this.now()), presented: given !== undefined },
      "local token check failed on the TCP listener",
    );
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

/**
 * One TCP WebSocket's authentication: frames before it succeeds are handled in order, one after
 * another (a check may wait for the throttle); a wrong token closes the connection (1008).
 */
export class WsAuth {
  done = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly gate: TcpGate,
    private readonly ws: { close(code: number, reason: string): void },
  ) {}

  /** Runs `fn` after every frame before it. */
  inOrder(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch(() => this.ws.close(1011, "internal error"));
  }

  async verify(apiKey: unknown): Promise<boolean> {
    this.done = await this.gate.verify(apiKey, "websocket");
    return this.done;
  }

  refuse(): void {
    this.ws.close(1008, "invalid token");
  }
}
