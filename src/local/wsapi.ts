/**
 * Runware's own WebSocket protocol, served locally on `GET /v1` (docs/local-api.md §2.6), so a program written
 * for `wss://ws-api.runware.ai/v1` works by changing its URL. The client's `authentication` is
 * answered here and its key is dropped unread (the daemon's key is used upstream); `ping` is
 * answered here; every other task goes over the shared upstream link and its results come back only
 * to the connection that sent it. Async tasks behave as upstream: an acknowledgement, then the
 * client's own `getResponse` polls, answered from the daemon's state.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { randomUUID } from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";
import type { RunwareErrorObject } from "../errors.js";
import type { Logger } from "../log.js";
import type { Task } from "../protocol/schemas.js";
import { PONG_FRAME } from "../protocol/codec.js";
import type { ByteBudget } from "./budget.js";
import type { DaemonConfig } from "./config.js";
import { unencodable } from "./encode.js";
import type { Caller, TaskService } from "./service.js";
import type { UnsentBudget } from "./unsent.js";
import { isRefusal, validateBatch } from "./validate.js";
import { WsPeer } from "./wspeer.js";
import { invalidToken, MAX_BYTES_BEFORE_AUTH, notYet, WsAuth, type TcpGate } from "./tcp-gate.js";

export interface LocalWebSocketBudgets {
  /** Bytes not yet read by local clients (unsent.ts). */
  unsent: UnsentBudget;
  /** Bytes of requests being read (budget.ts). */
  reading: ByteBudget;
}

export class LocalWebSocket {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 0 });
  private seq = 0;
  private readonly log: Logger;

  constructor(
    private readonly service: TaskService,
    logger: Logger,
    private readonly opts: Pick<DaemonConfig, "maxBodyBytes" | "closeGraceMs" | "maxJsonDepth" | "slowClientGraceMs">,
    private readonly budgets: LocalWebSocketBudgets,
  ) {
    this.log = logger.child({ mod: "local-ws" });
    this.wss.options.maxPayload = opts.maxBodyBytes;
    // A close unanswered this long is cut: a client closed for not reading has this long to read.
    // (ws 8.18+ takes closeTimeout; @types/ws does not know it yet.)
    (this.wss.options as { closeTimeout?: number }).closeTimeout = opts.slowClientGraceMs;
  }

  /**
   * `label`: the caller's, from the URL's `label` query parameter (local/label.ts). `gate`: on the
   * TCP listener, a connection not yet authenticated: its first task must be an authentication
   * with the local token (tcp-gate.ts).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, label: string, gate?: TcpGate): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, socket, label, gate));
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  /** Close every local connection (shutdown); 1001 "going away", cut after closeGraceMs. */
  close(): void {
    for (const ws of this.wss.clients) ws.close(1001, "daemon stopping");
    const force = setTimeout(() => {
      for (const ws of this.wss.clients) ws.terminate();
    }, this.opts.closeGraceMs).unref();
    // Called once every client is gone: nothing of the daemon stays scheduled after its stop.
    this.wss.close(() => clearTimeout(force));
  }

  private onConnection(ws: WebSocket, socket: Duplex, label: string, gate: TcpGate | undefined): void {
    const caller = { client: `ws:${++this.seq}`, label };
    const auth = gate ? new WsAuth(gate, ws) : undefined;
    const client = caller.client;
    const session = randomUUID();
    this.log.debug({ client }, "local websocket connected");
    const peer = new WsPeer(ws, this.budgets.unsent, this.log.child({ client }));
    peer.countReading(socket, this.budgets.reading);
    const sendErrors = (errors: RunwareErrorObject[]) => peer.sendErrors(errors);
    ws.on("error", (err) => this.log.debug({ client, err: err.message }, "local websocket error"));
    ws.on("message", (raw, isBinary) => {
      if (auth?.refused) return; // closed for its token: nothing it sent after is looked at
      if (isBinary) return sendErrors([{ code: "invalidRequestBody", message: "frames must be JSON text" }]);
      // Before its authentication a TCP connection may send only small frames: nothing large is parsed or held for it.
      if (auth && !auth.done && (raw as Buffer).length > MAX_BYTES_BEFORE_AUTH) return auth.refuse("frame too large before authentication");
      let body: unknown;
      try {
        // binaryType is ws's default "nodebuffer": a text message arrives as one Buffer.
        body = JSON.parse((raw as Buffer).toString("utf8"));
      } catch {
        return sendErrors([{ code: "invalidRequestBody", message: "the frame is not valid JSON" }]);
      }
      const items = Array.isArray(body) ? body : [body];
      if (auth && !auth.done) return auth.inOrder(() => this.onTasks(items, caller, session, peer, auth));
      for (const el of items) this.onTask(el, caller, session, peer);
    });
  }

  /** Tasks on a TCP connection not yet authenticated, in order: only authentication and ping until it is. */
  private async onTasks(items: unknown[], caller: Caller, session: string, peer: WsPeer, auth: WsAuth): Promise<void> {
    for (const el of items) {
      if (auth.refused) return;
      if (auth.done) {
        this.onTask(el, caller, session, peer);
        continue;
      }
      const rec = el && typeof el === "object" ? (el as Record<string, unknown>) : undefined;
      if (rec?.["taskType"] === "authentication") {
        if (!(await auth.verify(rec["apiKey"]))) {
          peer.sendErrors([invalidToken("wrong token")]);
          auth.refuse();
          return;
        }
      } else if (rec?.["taskType"] !== "ping") {
        peer.sendErrors([notYet(rec)]);
        continue;
      }
      this.onTask(el, caller, session, peer);
    }
  }

  private onTask(el: unknown, caller: Caller, session: string, peer: WsPeer): void {
    const sendErrors = (errors: RunwareErrorObject[]) => peer.sendErrors(errors);
    const rec = el && typeof el === "object" ? (el as Record<string, unknown>) : undefined;
    if (rec?.["taskType"] === "authentication") {
      // Answered locally; the client's key (if any) is ignored and never forwarded or logged.
      peer.sendJson({ data: [{ taskType: "authentication", connectionSessionUUID: session }] });
      return;
    }
    if (rec?.["taskType"] === "ping") {
      peer.send(PONG_FRAME);
      return;
    }
    const checked = validateBatch([el], (u) => this.service.inFlight(u), this.opts.maxJsonDepth);
    if (isRefusal(checked)) return sendErrors([checked.error]);
    const task = checked[0] as Task;
    const refused = this.service.admissionError(checked, caller.label);
    if (refused) return sendErrors([refused.toRunwareError({ taskUUID: task.taskUUID, taskType: task.taskType })]);
    const async = task["deliveryMethod"] === "async";
    // A getResponse reply is the task's full current state in one frame, data and errors together
    // (docs/protocol.md §4.2): clients read one reply per poll, so it must not be split per item.
    const wholeReply = task.taskType === "getResponse";
    // Only the task's names are kept for its errors: the parsed task (a 30 MB seedImage) goes once encoded.
    const ref = { taskUUID: task.taskUUID, taskType: task.taskType };
    // Replies that could not be encoded: the task's errors frame says so, so no task goes unanswered.
    const unsent: RunwareErrorObject[] = [];
    void this.service.run(checked, caller, (ev) => {
      if (ev.type === "ack") {
        if (!peer.sendJson({ data: [ev.item] })) unsent.push(unencodable(ref, "the acknowledgement"));
      } else if (ev.type === "progress") {
        // Progress reaches a WebSocket client in its getResponse answers (docs/local-api.md §2.8):
        // one that did not ask for async expects results only, as from a sync task.
      } else if (ev.type === "data") {
        // An async client fetches results with getResponse itself, as it would from Runware.
        if (!async && !wholeReply && !peer.sendJson({ data: [ev.item] })) unsent.push(unencodable(ref));
      } else if (wholeReply) {
        const { data, errors } = ev.outcome;
        if (!peer.sendJson(errors.length > 0 ? { data, errors } : { data })) sendErrors([unencodable(ref, "the reply")]);
      } else {
        const errors = unsent.length > 0 ? [...ev.outcome.errors, ...unsent] : ev.outcome.errors;
        if (errors.length > 0 && !peer.sendJson({ errors })) sendErrors([unencodable(ref, "an error")]);
      }
    });
  }
}
