/**
 * The local API (docs/local-api.md §2): HTTP/1.1 routes over the Unix socket, plus the WebSocket upgrade on
 * `GET /v1`. Knows HTTP, not Runware: batches go to the TaskService, status comes from the engine.
 * Within the local side's byte budgets (docs/reliability.md, Limits): connections (connections.ts),
 * bodies being read (budget.ts), what is held for or unread by clients (unsent.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { warnWith, type Logger } from "../log.js";
import type { Task } from "../protocol/schemas.js";
import type { TaskSnapshot } from "../upstream/task.js";
import { JsonAnswer } from "./answer.js";
import type { ByteBudget, Hold } from "./budget.js";
import { capConnections } from "./connections.js";
import { readRoute, type ReadRouteOptions } from "./read-routes.js";
import { authenticatedBody, bearerOf, invalidToken, type TcpGate } from "./tcp-gate.js";
import { BodyRefused, fromBrowser, readBody, safeDecode, sendError, sendJson, sendRawError, splitTarget } from "./http.js";
import type { DaemonConfig } from "./config.js";
import { NdjsonWriter } from "./ndjson.js";
import { labelOrError } from "./label.js";
import { upgradeHandler } from "./upgrade.js";
import type { Caller, TaskService } from "./service.js";
import { jsonBytes, outcomeBytes } from "./size.js";
import { evictedError } from "./store.js";
import type { UnsentBudget } from "./unsent.js";
import { isRefusal, validateBatch } from "./validate.js";
import type { LocalWebSocket } from "./wsapi.js";

export interface LocalServerOptions
  extends
    Pick<DaemonConfig, "maxBodyBytes" | "refusedBodyDrainMs" | "maxJsonDepth" | "maxLocalConnections" | "slowClientGraceMs">,
    ReadRouteOptions {
  logger: Logger;
  /** Bytes of request bodies being read, on every connection together. */
  reading: ByteBudget;
  /** Bytes held for or not yet read by local clients. */
  unsent: UnsentBudget;
  /** On the loopback TCP listener: every request shows the local token (tcp-gate.ts). */
  gate?: TcpGate;
}

const TASK_PATH = /^\/v1\/tasks\/([^/]+)$/;
/** Status for a request Node's HTTP parser refused, by its error code; anything else is 400. */
const CLIENT_ERROR_STATUS: Record<string, number> = { HPE_HEADER_OVERFLOW: 431, ERR_HTTP_REQUEST_TIMEOUT: 408 };
/** HTTP status for an admission error code. */
const ADMISSION_STATUS: Record<string, number> = {
  draining: 503,
  starting: 503,
  queueFull: 429,
  batchTooLarge: 413,
  taskTooLarge: 413,
  tooManyLabels: 400,
  budgetExceeded: 402,
};

export function createLocalServer(service: TaskService, ws: LocalWebSocket, opts: LocalServerOptions): Server {
  const log = opts.logger.child({ mod: "local-api" });
  let clientSeq = 0;

  const server = createServer((req, res) => {
    // A connection over the cap was answered as it opened; what it sends is read and ignored.
    if (cap.refused(req.socket)) {
      req.resume();
      return;
    }
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "request handler failed");
      if (!res.headersSent) sendError(res, 500, { code: "internalError", message: "the daemon failed to handle the request" });
      else res.destroy();
    });
  });
  const cap = capConnections(server, opts.maxLocalConnections, opts.refusedBodyDrainMs, opts.logger);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (fromBrowser(req)) {
      sendError(res, 403, { code: "forbiddenOrigin", message: "requests from web pages (with an Origin header) are refused" });
      return;
    }
    const { path, query } = splitTarget(req.url);
    // On TCP: the token, in the header, or (POST /v1 only, as Runware's REST API) a first authentication task.
    const bearer = opts.gate ? bearerOf(req) : undefined;
    const authInBody = opts.gate !== undefined && bearer === undefined && path === "/v1" && req.method === "POST";
    if (opts.gate && !authInBody && !(await opts.gate.verify(bearer, "http"))) {
      return sendError(res, 401, invalidToken(bearer === undefined ? "no token: send Authorization: Bearer <token>" : "wrong token"));
    }
    if (path === "/v1") {
      if (req.method === "POST") return postTasks(req, res, authInBody);
      return methodNotAllowed(res, "POST");
    }
    if (await readRoute(service, opts, req, path, query, res)) return;
    const m = TASK_PATH.exec(path);
    if (m) {
      if (req.method !== "GET") return methodNotAllowed(res, "GET");
      // A malformed %-escape cannot name a task we know: 404, not a 500 from the URIError.
      const uuid = safeDecode(m[1] as string);
      if (uuid === undefined)
        return sendError(res, 404, { code: "taskNotFound", message: "no such task (malformed taskUUID in the path)" });
      return getTask(res, uuid, query ? new URLSearchParams(query).get("wait") : null);
    }
    sendError(res, 404, { code: "notFound", message: `no route ${req.method} ${path}` });
  }

  function methodNotAllowed(res: ServerResponse, allow: string): void {
    sendError(res, 405, { code: "methodNotAllowed", message: `use ${allow}` }, { allow });
  }

  async function getTask(res: ServerResponse, uuid: string, wait: string | null): Promise<void> {
    // An async task the daemon gave up on is asked about again, either way (service.current).
    const done = wait === "1" || wait === "true" ? service.wait(uuid) : undefined;
    const snap = done ? await done : await service.current(uuid);
    if (!snap) {
      const gone = service.evicted(uuid);
      if (gone) return sendError(res, 410, evictedError(uuid, gone, service.store.limits));
      return sendError(res, 404, { code: "taskNotFound", message: `no task ${uuid} in flight or within retention`, taskUUID: uuid });
    }
    const answer = new JsonAnswer(res, [{ taskUUID: snap.taskUUID, taskType: snap.taskType }], opts.unsent, opts.slowClientGraceMs, log);
    const bytes = outcomeBytesOf(snap);
    const head: Record<string, string | number> = { taskUUID: snap.taskUUID, taskType: snap.taskType, state: snap.state };
    if ("progress" in snap && snap.progress !== undefined) head["progress"] = snap.progress;
    if (answer.hold(0, snap, bytes)) await answer.write(200, head, true);
  }

  /** The checked tasks of a POST body, or undefined once a refusal has been answered. */
  async function readTasks(req: IncomingMessage, res: ServerResponse, authInBody: boolean): Promise<Task[] | undefined> {
    // The body's bytes count against the reading budget until it is parsed and checked.
    const hold = opts.reading.hold();
    try {
      return await readAndCheck(req, res, hold, authInBody);
    } finally {
      hold.release();
    }
  }

  async function readAndCheck(req: IncomingMessage, res: ServerResponse, hold: Hold, authInBody: boolean): Promise<Task[] | undefined> {
    let body: Buffer;
    try {
      body = await readBody(req, opts.maxBodyBytes, hold, opts.reading);
    } catch (err) {
      if (err instanceof BodyRefused) {
        // Nothing more is buffered, but the rest of the body is still read (and dropped) for a
        // moment after the answer: a socket closed with unread input is reset, and the client would
        // see ECONNRESET instead of this 413 or 503 (test/reliability/fuzz.test.ts checks it).
        // "keep-alive" stops Node from closing the socket right after the answer; once drained it
        // is closed cleanly, and the timer bounds the drain.
        const retry: Record<string, string> = err.status === 503 ? { "retry-after": "1" } : {};
        sendError(res, err.status, { code: err.code, message: err.message }, { connection: "keep-alive", ...retry });
        res.on("finish", () => {
          const socket = req.socket;
          if (req.complete) {
            socket.end();
            return;
          }
          const stop = setTimeout(() => socket.destroy(), opts.refusedBodyDrainMs).unref();
          socket.once("close", () => clearTimeout(stop));
          req.once("end", () => {
            clearTimeout(stop);
            socket.end();
          });
          req.resume(); // drain what readBody stopped reading
        });
        return undefined;
      }
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      sendError(res, 400, { code: "invalidRequestBody", message: "the body is not valid JSON" });
      return undefined;
    }
    if (authInBody && opts.gate) {
      const rest = await authenticatedBody(parsed, opts.gate);
      if (rest === undefined || rest === false) {
        sendError(
          res,
          401,
          invalidToken(rest === false ? "wrong token" : "no token: send Authorization: Bearer <token>, or an authentication task first"),
        );
        return undefined;
      }
      // Only the authentication task: Runware's answer to it.
      if (rest.length === 0) {
        sendJson(res, 200, { data: [{ taskType: "authentication" }] });
        return undefined;
      }
      parsed = rest;
    }
    const tasks = validateBatch(parsed, (u) => service.inFlight(u), opts.maxJsonDepth);
    if (!isRefusal(tasks)) return tasks;
    sendError(res, tasks.status, tasks.error);
    return undefined;
  }

  async function postTasks(req: IncomingMessage, res: ServerResponse, authInBody: boolean): Promise<void> {
    // Read and check in a function of its own, so the raw body and its parse are not held for the
    // life of the request (a heap snapshot showed both alive across the await below).
    const tasks = await readTasks(req, res, authInBody);
    if (!tasks) return;
    const label = labelOrError(req.headers["runware-label"]);
    if (typeof label !== "string") return sendError(res, 400, label.toRunwareError());
    const refused = service.admissionError(tasks, label);
    if (refused) {
      const status = ADMISSION_STATUS[refused.code] ?? 503;
      return sendError(res, status, refused.toRunwareError(), status === 429 || status === 503 ? { "retry-after": "1" } : {});
    }
    const client = `http:${++clientSeq}`;
    if (log.isLevelEnabled("debug")) log.debug({ client, label, tasks: tasks.length }, "batch accepted");
    return runBatch(res, tasks, { client, label }, (req.headers.accept ?? "").includes("application/x-ndjson"));
  }

  /**
   * Not async, and its writers keep only each task's taskUUID and taskType: the parsed tasks (a 30 MB
   * seedImage, and the body text it may still point into) are let go once they are encoded.
   */
  function runBatch(res: ServerResponse, tasks: Task[], caller: Caller, ndjson: boolean): Promise<void> {
    const refs = tasks.map((t) => ({ taskUUID: t.taskUUID, taskType: t.taskType }));
    const clientLog = warnWith(log, { client: caller.client });
    if (ndjson) {
      const out = new NdjsonWriter(res, refs, opts.unsent, opts.slowClientGraceMs, clientLog);
      const done = service.run(tasks, caller, (ev, i) => {
        if (ev.type === "final") out.final(i, ev.outcome);
        else out.item(i, ev.item, ev.type !== "data"); // an ack or a processing item is not a result
      });
      return done.then(() => out.end());
    }
    // Each task's outcome is held (and counted) until the whole answer can be written.
    const answer = new JsonAnswer(res, refs, opts.unsent, opts.slowClientGraceMs, clientLog);
    const done = service.run(tasks, caller, (ev, i) => {
      if (ev.type === "final") answer.hold(i, ev.outcome, outcomeBytes(ev.outcome));
    });
    return done.then(() => answer.write(200, undefined));
  }

  server.on("upgrade", upgradeHandler({ service, ws, gate: opts.gate, log, refused: (socket) => cap.refused(socket) }));

  // What Node answers by itself otherwise (a bare status line, or nothing) gets the error shape too
  // (docs/local-api.md §2.7): malformed requests, CONNECT, unmet Expect headers.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (err.code === "ECONNRESET" || responseStarted(socket) || cap.refused(socket)) {
      socket.destroy();
      return;
    }
    const status = CLIENT_ERROR_STATUS[err.code ?? ""] ?? 400;
    sendRawError(socket, status, { code: "invalidRequest", message: `malformed HTTP request (${err.code ?? "parse error"})` });
  });
  server.on("connect", (_req, socket) => sendRawError(socket, 405, { code: "methodNotAllowed", message: "CONNECT is not supported" }));
  server.on("checkExpectation", (_req, res) => {
    sendError(res, 417, { code: "expectationFailed", message: "only 'Expect: 100-continue' is supported" });
  });

  return server;
}

/** Node keeps the response being written on a socket here; a raw answer must not be spliced into it. */
function responseStarted(socket: Duplex): boolean {
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return current?.headersSent === true;
}

/** A task snapshot's results and errors, measured (a snapshot is a copy, so not memoised). */
function outcomeBytesOf(s: TaskSnapshot): number {
  return jsonBytes(s.data) + jsonBytes(s.errors);
}
