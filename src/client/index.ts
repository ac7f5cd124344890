/**
 * The Node client of the daemon: `connect()` → `run`, `stream`, `task`, `status`, `history`.
 * It imports only node:net (see http1.ts), node:crypto and the socket-path resolver, so a one-shot script starts
 * about as fast as bare Node (no ws, zod or pino on this path).
 */
import { randomUUID } from "node:crypto";
import { http1Request, readJson, type Http1Response } from "./http1.js";
import { defaultSocketPath } from "../paths.js";
import type { RunwareErrorObject } from "../errors.js";
import type { HistoryEntry, HistoryPage, HistoryQuery } from "../protocol/history.js";
import type { EngineStats } from "../upstream/stats.js";
import type { TaskState } from "../upstream/task.js";
import { ndjsonLines } from "./ndjson.js";
import type { DaemonEvent } from "../protocol/events.js";
import { ClientError, DaemonUnreachableError, InvalidLabelError, RequestRefusedError } from "./errors.js";
import { labelFor } from "./label.js";

// The daemon's own definitions, as types only: they cost nothing at run time.
/** Runware's error object. */
export type RunwareError = RunwareErrorObject;
export { LocalFileError } from "./local-files.js";
export { ClientError, DaemonUnreachableError, InvalidLabelError, RequestRefusedError };
export type { TaskState };
export type { DaemonEvent } from "../protocol/events.js";
export type { HistoryEntry, HistoryPage, HistoryQuery, HistorySummary, Uncosted } from "../protocol/history.js";

export interface ResultItem {
  taskType: string;
  taskUUID: string;
  [field: string]: unknown;
}

/** Runware's envelope. `errors` is present only when something failed. */
export interface Envelope {
  data: ResultItem[];
  errors?: RunwareError[];
}

export type TaskInput = { taskType: string; taskUUID?: string; [field: string]: unknown };

/** The last line of a stream: counts of the batch's tasks by outcome, and of result items. */
export interface DoneFrame {
  done: true;
  tasks: number;
  completed: number;
  failed: number;
  inDoubt: number;
  results: number;
}

/**
 * One line of a stream. A `data` item is a result, or (see `isProgress`) an async task's
 * `processing` item with its new `progress`, or, for a task sent with `deliveryMethod: "async"`,
 * its acknowledgement `{taskType, taskUUID}` before its results (docs/local-api.md §2.2, §2.8).
 */
export type StreamFrame = { data: ResultItem[] } | { errors: RunwareError[] } | DoneFrame;

export interface TaskView {
  taskUUID: string;
  taskType: string;
  state: TaskState;
  /** The last progress (0-100) Runware reported for an async task still running. */
  progress?: number;
  data: ResultItem[];
  errors: RunwareError[];
}

/** A `processing` item of an async task (Runware's shape, with `progress` 0-100): news, not a result. */
export function isProgress(item: ResultItem): boolean {
  return item["status"] === "processing";
}

export interface RunOptions {
  /**
   * Called with each new progress of an async task (video, audio, ...), as Runware's `processing`
   * item `{taskType, taskUUID, status: "processing", progress}`. With it, `run` reads the answer as
   * a stream; the envelope it resolves with is the same.
   */
  onProgress?: (item: ResultItem & { progress: number }) => void;
  /** Called with each result item as it arrives (the envelope still holds them all). Also reads the stream. */
  onResult?: (item: ResultItem) => void;
  /** Called with each error as it arrives. Also reads the stream. */
  onError?: (error: RunwareError) => void;
  /**
   * Read media inputs that name a local file (`seedImage: "./cat.png"`, a `file://` URI) and send
   * them as data URIs; relative paths against `baseDir` (default: the working directory). Off
   * unless asked: a server must not read paths its users typed. A missing file, a directory, or a
   * file over the daemon's body limit rejects with `LocalFileError` (code `localFile`), nothing sent.
   */
  readLocalFiles?: boolean | { baseDir?: string };
}

/** `GET /v1/status`: the engine's stats, the limits the daemon runs with, its version. */
export type Status = Omit<EngineStats, "limits"> & {
  limits: EngineStats["limits"] & Record<string, number>;
  version: string;
};

export interface ConnectOptions {
  /** The daemon's socket; default: RUNWARE_SOCKET, then $XDG_RUNTIME_DIR/runware/daemon.sock, then /tmp/runware-<uid>/daemon.sock. */
  socket?: string;
  /**
   * Reuse connections between requests (node:http with a keep-alive Agent, loaded on first use).
   * Worth it for a long-lived caller making many requests; a one-shot script starts faster
   * without (the default: one connection per request, no node:http).
   */
  keepAlive?: boolean;
  /**
   * Who is asking, for the daemon's history and spend (docs/local-api.md §2.9): 1 to 64 printable
   * ASCII characters. Default: RUNWARE_LABEL, else this script's file name. A bad one throws
   * InvalidLabelError (code `invalidLabel`) here, before anything is sent.
   */
  label?: string;
}

const UNREACHABLE = new Set(["ENOENT", "ECONNREFUSED", "ENOTSOCK", "EACCES"]);

export class RunwareClient {
  readonly socketPath: string;
  /** The label sent with each batch; undefined: none (the daemon says `unlabelled`). */
  readonly label: string | undefined;
  private readonly keepAlive: boolean;

  constructor(options: ConnectOptions = {}) {
    this.socketPath = options.socket ?? defaultSocketPath();
    this.keepAlive = options.keepAlive ?? false;
    this.label = labelFor(options.label, process.env, process.argv[1]);
  }

  /**
   * Run tasks; resolves once every task is final with Runware's `{data, errors}` envelope. A batch
   * larger than the daemon's whole queue (413 batchTooLarge) is split in halves and run in turn.
   */
  async run(tasks: TaskInput[], options: RunOptions = {}): Promise<Envelope> {
    if (options.readLocalFiles) {
      const { readLocalFilesFor } = await import("./local-inputs.js");
      const read = await readLocalFilesFor(this, tasks, options.readLocalFiles === true ? {} : options.readLocalFiles);
      return this.run(read, { ...options, readLocalFiles: false });
    }
    if (options.onProgress || options.onResult || options.onError) return this.runStreamed(tasks, options);
    let res: Http1Response;
    try {
      res = await this.send("POST", "/v1", tasks, this.labelled());
    } catch (err) {
      const halves = splitOnTooLarge(err, tasks);
      if (!halves) throw err;
      const [a, b] = [await this.run(halves[0]), await this.run(halves[1])];
      const errors = [...(a.errors ?? []), ...(b.errors ?? [])];
      return errors.length > 0 ? { data: [...a.data, ...b.data], errors } : { data: [...a.data, ...b.data] };
    }
    return (await readJson(res)) as Envelope;
  }

  /**
   * Run tasks and yield Runware-shaped frames as results arrive; the last frame is `{done: true, ...}`.
   * A batch larger than the daemon's whole queue is split in halves, streamed in turn, with one
   * final `done` frame for all of it.
   */
  async *stream(tasks: TaskInput[]): AsyncGenerator<StreamFrame> {
    let res: Http1Response;
    try {
      res = await this.send("POST", "/v1", tasks, this.labelled({ accept: "application/x-ndjson" }));
    } catch (err) {
      const halves = splitOnTooLarge(err, tasks);
      if (!halves) throw err;
      const total: DoneFrame = { done: true, tasks: 0, completed: 0, failed: 0, inDoubt: 0, results: 0 };
      for (const half of halves) {
        for await (const frame of this.stream(half)) {
          if (!("done" in frame)) yield frame;
          else for (const k of ["tasks", "completed", "failed", "inDoubt", "results"] as const) total[k] += frame[k];
        }
      }
      yield total;
      return;
    }
    let sawDone = false;
    for await (const frame of ndjsonLines<StreamFrame>(res.body)) {
      if ("done" in frame) sawDone = true;
      yield frame;
    }
    // A stream without its last line means the daemon failed mid-way (docs/local-api.md §2.2).
    if (!sawDone) throw new ClientError("streamTruncated", "the daemon's stream ended without its final line");
  }

  /**
   * `run` over the stream: progress items to `onProgress`, acknowledgements dropped, results and
   * errors gathered into one envelope, results in task order as `run` gives them. A task without a
   * taskUUID gets one here, so its items (and its acknowledgement) are known as its own.
   */
  private async runStreamed(tasks: TaskInput[], hooks: RunOptions): Promise<Envelope> {
    const named = tasks.map((t) => (t.taskUUID ? t : { ...t, taskUUID: randomUUID() }));
    const order = new Map<string, ResultItem[]>();
    for (const t of named) order.set(t.taskUUID as string, []);
    // A caller-async task's first item is its acknowledgement (once, before its results).
    const unacked = new Set(named.filter((t) => t.deliveryMethod === "async").map((t) => t.taskUUID as string));
    const errors: RunwareError[] = [];
    for await (const frame of this.stream(named)) {
      if ("errors" in frame) {
        errors.push(...frame.errors);
        for (const e of frame.errors) hooks.onError?.(e);
      }
      if (!("data" in frame)) continue;
      for (const item of frame.data) {
        if (isProgress(item)) {
          if (typeof item["progress"] === "number") hooks.onProgress?.(item as ResultItem & { progress: number });
          continue;
        }
        if (unacked.delete(item.taskUUID)) continue;
        hooks.onResult?.(item);
        let list = order.get(item.taskUUID);
        if (!list) order.set(item.taskUUID, (list = []));
        list.push(item);
      }
    }
    const data = [...order.values()].flat();
    return errors.length > 0 ? { data, errors } : { data };
  }

  /** A task's state; `wait` holds until it is final. Resolves undefined for an unknown UUID. */
  async task(taskUUID: string, options: { wait?: boolean } = {}): Promise<TaskView | undefined> {
    const path = `/v1/tasks/${encodeURIComponent(taskUUID)}${options.wait ? "?wait=1" : ""}`;
    try {
      return (await this.getJson(path)) as TaskView;
    } catch (err) {
      if (err instanceof RequestRefusedError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** The daemon's live events (docs/local-api.md §7.3) as they happen, until the daemon ends the stream. */
  async *events(): AsyncGenerator<DaemonEvent> {
    yield* ndjsonLines<DaemonEvent>((await this.send("GET", "/v1/events")).body);
  }

  async status(): Promise<Status> {
    return (await this.getJson("/v1/status")) as Status;
  }

  /** Finished tasks, newest first, one page (`nextCursor`: pass it as `cursor` for the next, older one). */
  async history(query: HistoryQuery = {}): Promise<HistoryPage> {
    return (await import("./history.js")).historyPage((path) => this.getJson(path), query);
  }

  /** One finished task in full (the newest with that UUID); undefined when the daemon has none. */
  async historyEntry(taskUUID: string): Promise<HistoryEntry | undefined> {
    return (await import("./history.js")).historyEntry((path) => this.getJson(path), taskUUID);
  }

  private async getJson(path: string): Promise<unknown> {
    return readJson(await this.send("GET", path));
  }

  private labelled(headers: Record<string, string> = {}): Record<string, string> {
    return this.label === undefined ? headers : { ...headers, "runware-label": this.label };
  }

  private async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Http1Response> {
    let res: Http1Response;
    try {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      res = this.keepAlive
        ? await (await import("./pooled.js")).pooledRequest(this.socketPath, method, path, headers, payload)
        : await http1Request(this.socketPath, method, path, headers, payload);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw e.code && UNREACHABLE.has(e.code) ? new DaemonUnreachableError(this.socketPath, e) : e;
    }
    if (res.status >= 400) {
      const b = (await readJson(res, true)) as { errors?: RunwareError[] } | undefined;
      throw new RequestRefusedError(res.status, b?.errors ?? []);
    }
    return res;
  }
}

/** The two halves to send instead, when the daemon said the batch can never fit (413 batchTooLarge). */
function splitOnTooLarge(err: unknown, tasks: TaskInput[]): [TaskInput[], TaskInput[]] | undefined {
  if (!(err instanceof RequestRefusedError) || err.status !== 413 || err.code !== "batchTooLarge" || tasks.length < 2) return undefined;
  const mid = Math.ceil(tasks.length / 2);
  return [tasks.slice(0, mid), tasks.slice(mid)];
}

export function connect(options: ConnectOptions = {}): RunwareClient {
  return new RunwareClient(options);
}
