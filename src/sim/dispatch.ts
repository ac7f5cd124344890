/**
 * What the simulator does with each inbound frame (docs/protocol.md §1–§5): a frame is a
 * JSON array of tasks handled in order; `ping` works before auth, everything else needs an
 * authenticated session; tasks are registered by taskUUID, validated, acknowledged when async, and
 * run. Replies to protocol tasks (auth, ping, getResponse) go straight to the connection; task
 * output goes through the session, so it survives a dropped connection.
 */
import type { Logger } from "pino";
import type { SimConnection } from "./connection.js";
import { CounterStore } from "./counters.js";
import type { Account } from "./account.js";
import type { AuthFaults, DeepResults, ErrorInjector, ModelUploadFaults } from "./faults.js";
import type { ImageStore } from "./images.js";
import { mediaInputProblem } from "./inputs.js";
import type { MediaStore } from "./media/store.js";
import { RUNWARE_LIMITS, SIM_CONSTANTS } from "./limits.js";
import type { SimOptions } from "./options.js";
import type { TaskRecord, TaskRegistry } from "./registry.js";
import type { Rng } from "./rng.js";
import { ackFrame, pollFrame, runTask } from "./runner.js";
import { webhookOf } from "./webhook.js";
import type { Session, SessionStore } from "./session.js";
import { TASK_HANDLERS } from "./tasks/index.js";
import type { Timers } from "./timers.js";
import { enumParam } from "./validate.js";
import { isRecord, isUuid, wireError, type Item, type OutFrame, type WireError } from "./wire.js";

export interface SimState {
  readonly opts: SimOptions;
  readonly rng: Rng;
  readonly timers: Timers;
  readonly counters: CounterStore;
  readonly sessions: SessionStore;
  readonly registry: TaskRegistry;
  readonly images: ImageStore;
  readonly media: MediaStore;
  readonly injector: ErrorInjector;
  readonly authFaults: AuthFaults;
  readonly deepResults: DeepResults;
  readonly account: Account;
  readonly modelUploadFaults: ModelUploadFaults;
  readonly httpUrl: () => string;
  /** Monotonic milliseconds (render progress). */
  readonly now: () => number;
  readonly log: Logger | undefined;
}

const AUTH = "authentication";
const PING = "ping";
const GET_RESPONSE = "getResponse";

/**
 * Runware runs video and audio asynchronously only (docs/protocol.md §4); what it answers to a sync
 * request is not documented, so the code is our choice (src/sim/README.md).
 */
function asyncOnlyError(taskType: string): WireError {
  return {
    ...wireError("invalidDeliveryMethod"),
    message: `Invalid value for 'deliveryMethod': ${taskType} runs asynchronously only; send "deliveryMethod": "async" and poll getResponse.`,
    parameter: "deliveryMethod",
  };
}

export class Dispatcher {
  constructor(private readonly s: SimState) {}

  async handleFrame(conn: SimConnection, text: string): Promise<void> {
    let tasks: unknown;
    try {
      tasks = JSON.parse(text);
    } catch {
      tasks = undefined;
    }
    if (!Array.isArray(tasks)) {
      // The body must be an array of tasks (§1.2); Runware's code for this is unknown.
      conn.sendFrame({ errors: [wireError("invalidRequestBody")] });
      return;
    }
    if (tasks.some((t) => isRecord(t) && t["taskType"] === GET_RESPONSE)) this.s.counters.pollFrames += 1;
    for (const task of tasks) {
      if (!conn.isOpen) return;
      await this.handleTask(conn, task);
    }
  }

  private async handleTask(conn: SimConnection, task: unknown): Promise<void> {
    if (!isRecord(task)) {
      conn.sendFrame({ errors: [wireError("invalidRequestBody")] });
      return;
    }
    const taskType = task["taskType"];
    const taskUUID = typeof task["taskUUID"] === "string" ? { taskUUID: task["taskUUID"] } : {};
    const reply = (frame: OutFrame) => (conn.session ? conn.session.emit(frame) : conn.sendFrame(frame));
    if (typeof taskType !== "string" || taskType === "") {
      reply({
        errors: [
          { ...wireError("missingTaskType"), message: "Missing required parameter 'taskType'.", parameter: "taskType", ...taskUUID },
        ],
      });
      return;
    }
    if (taskType === PING) return this.ping(conn);
    if (taskType === AUTH) return this.authenticate(conn, task);
    const session = conn.session;
    if (!session) {
      conn.sendFrame({ errors: [wireError("missingApiKey", { taskType, ...taskUUID })] });
      return;
    }
    if (taskType === GET_RESPONSE) return this.getResponse(conn, task);
    this.submit(session, task, taskType);
  }

  private ping(conn: SimConnection): void {
    this.s.counters.pings += 1;
    conn.sendFrame({ data: [{ taskType: PING, pong: true }] });
  }

  /** §2.1: answer `{data:[{taskType, connectionSessionUUID}]}` as data[0] (sdk-js reads data[0]). */
  private async authenticate(conn: SimConnection, task: Item): Promise<void> {
    const { opts, authFaults, sessions, counters } = this.s;
    const fault = authFaults.take();
    if (fault === "drop") {
      conn.terminate();
      return;
    }
    if (opts.authDelayMs > 0 && !(await conn.sleep(opts.authDelayMs))) return;
    if (fault === "error") {
      conn.sendFrame({ errors: [wireError("internalServerError", { taskType: AUTH })] });
      return;
    }
    const key = task["apiKey"];
    if (typeof key !== "string" || key === "" || opts.rejectedKeys.includes(key)) {
      conn.sendFrame({ errors: [wireError("invalidApiKey", { parameter: "apiKey", taskType: AUTH })] });
      if (opts.closeOnAuthFailure) conn.closeAfterQueued(SIM_CONSTANTS.closeCode, "invalid API key");
      return;
    }
    const requested =
      typeof task["connectionSessionUUID"] === "string" && task["connectionSessionUUID"] ? task["connectionSessionUUID"] : undefined;
    const known = requested !== undefined ? sessions.get(requested) : undefined;
    // Unknown or expired session: a fresh one, no error (§2.3, our assumption).
    const session = known ?? sessions.create();
    counters.auths.push({ sessionUUID: session.uuid, ...(requested ? { requestedSession: requested } : {}), resumed: known !== undefined });
    conn.sendFrame({ data: [{ taskType: AUTH, connectionSessionUUID: session.uuid }] });
    session.attach(conn);
    this.s.log?.debug({ conn: conn.id, session: session.uuid, resumed: known !== undefined }, "sim: authenticated");
  }

  /**
   * §4.2: the full current state of a task. Also answers for retained sync tasks: that is how a client
   * recovers the results of a session it could not resume (our assumption; the docs only show async).
   */
  private getResponse(conn: SimConnection, task: Item): void {
    const uuid = task["taskUUID"];
    if (!isUuid(uuid)) {
      conn.sendFrame({ errors: [this.uuidProblem(uuid, GET_RESPONSE)] });
      return;
    }
    CounterStore.bump(this.s.counters.getResponses, uuid);
    const rec = this.s.registry.get(uuid);
    // Some task types are not answered by getResponse at Runware (TaskHandler.notPolled).
    if (!rec || TASK_HANDLERS.get(rec.taskType)?.notPolled) {
      conn.sendFrame({ errors: [wireError("taskNotFound", { parameter: "taskUUID", taskType: GET_RESPONSE, taskUUID: uuid })] });
      return;
    }
    CounterStore.bump(this.s.counters.pollsByTaskType, rec.taskType);
    conn.sendFrame(pollFrame(rec, this.s.opts.asyncErrorForm, this.s.now()));
  }

  private uuidProblem(uuid: unknown, taskType: string): WireError {
    if (uuid === undefined || uuid === null || uuid === "") {
      return { ...wireError("missingTaskUUID"), message: "Missing required parameter 'taskUUID'.", parameter: "taskUUID", taskType };
    }
    return {
      ...wireError("invalidTaskUUID"),
      message: "Invalid value for 'taskUUID': must be a UUID v4 string.",
      parameter: "taskUUID",
      taskType,
      ...(typeof uuid === "string" ? { taskUUID: uuid } : {}),
    };
  }

  private submit(session: Session, task: Item, taskType: string): void {
    const { registry, counters, opts } = this.s;
    const uuid = task["taskUUID"];
    if (!isUuid(uuid)) {
      session.emit({ errors: [this.uuidProblem(uuid, taskType)] });
      return;
    }
    CounterStore.bump(counters.received, uuid);
    const ids = { taskType, taskUUID: uuid };
    const handler = TASK_HANDLERS.get(taskType);
    if (!handler) {
      session.emit({ errors: [wireError("unsupportedTaskType", { parameter: "taskType", ...ids })] });
      return;
    }
    if (registry.inUse(uuid)) {
      counters.conflicts += 1;
      session.emit({ errors: [wireError("conflictTaskUUID", { parameter: "taskUUID", ...ids })] });
      return;
    }
    const problem =
      enumParam(task, "deliveryMethod", RUNWARE_LIMITS.deliveryMethods) ??
      (handler.asyncOnly && task["deliveryMethod"] !== "async" ? asyncOnlyError(taskType) : undefined) ??
      handler.validate(task) ??
      mediaInputProblem(task, (id) => this.s.images.has(id) || this.s.media.has(id));
    const hook = webhookOf(task, ids);
    const refused = problem ?? (typeof hook === "object" ? hook : undefined);
    const base = { ...ids, session, async: task["deliveryMethod"] === "async", ...(typeof hook === "string" ? { webhook: hook } : {}) };
    if (refused) {
      const failure = { ...refused, ...ids };
      // Registered as failed: getResponse can report it and the UUID may be reused.
      registry.add({ ...base, status: "error", generations: [], failure });
      session.emit({ errors: [failure] });
      return;
    }
    const plan = handler.plan(task, {
      rng: this.s.rng,
      images: this.s.images,
      media: this.s.media,
      httpUrl: this.s.httpUrl(),
      base64ResultChars: opts.base64ResultChars,
      account: this.s.account,
      modelUploadFaults: this.s.modelUploadFaults,
    });
    const rec: TaskRecord = { ...base, status: "processing", generations: plan.items.map(() => ({ state: "processing" })) };
    registry.add(rec);
    counters.noteOutstanding(registry.outstanding);
    if (rec.async || rec.webhook) session.emit(ackFrame(rec, opts.asyncAckStatus));
    const render = handler.renderMs?.(opts);
    runTask(rec, plan, this.s.injector.take(taskType, this.s.rng), {
      timers: this.s.timers,
      registry,
      rng: this.s.rng,
      // Media renders for its own time, scaled (`--time-scale`); everything else takes `workMs`.
      workMs: render === undefined ? opts.workMs : Math.round(render * opts.timeScale),
      progress: render !== undefined,
      now: this.s.now,
      split: opts.split,
      deepen: () => this.s.deepResults.take(),
      charge: (usd) => this.s.account.charge(usd),
      onError: (err) => this.s.log?.error({ err }, "sim: task failed internally"),
    });
  }
}
