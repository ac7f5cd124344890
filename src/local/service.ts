/**
 * What the local API does with a validated batch, shared by `POST /v1` and the local WebSocket:
 * `ping` is answered here, `getResponse` for a task the daemon knows is answered from its own state
 * (the daemon already polls upstream for it), everything else goes to the engine. Tasks outlive the
 * request that brought them: nothing here cancels a task when its caller goes away.
 */
import type { RunwareErrorObject } from "../errors.js";
import type { DataItem, Task } from "../protocol/schemas.js";
import type { UpstreamEngine } from "../upstream/engine.js";
import type { TaskHandle, TaskOutcome, TaskSnapshot } from "../upstream/task.js";
import { DrainingError, TaskEncodingError, TaskTooLargeError } from "../upstream/errors.js";
import type { PreparedTask } from "../upstream/prepare.js";
import { RunwareDaemonError } from "../errors.js";
import { withoutCost } from "../protocol/cost.js";
import { LabelBook } from "./label.js";
import type { Ledger } from "./ledger/ledger.js";
import { evictedError, type Eviction, type ResultStore } from "./store.js";

/** Who sent a batch: its connection (the queue is fair between them) and its label (local/label.ts). */
export interface Caller {
  readonly client: string;
  readonly label: string;
}

/** What a caller sees of a task: `cost` only if it asked for it (protocol/cost.ts). */
export function shown<T extends { data: DataItem[]; costHidden?: true }>(s: T): T {
  return s.costHidden ? { ...s, data: s.data.map(withoutCost) } : s;
}

export type BatchEvent =
  | { type: "ack"; item: DataItem }
  /** A new `progress` of an async task: Runware's `processing` item (docs/local-api.md §2.8). */
  | { type: "progress"; item: DataItem }
  | { type: "data"; item: DataItem }
  | { type: "final"; outcome: TaskOutcome };

export type BatchSink = (ev: BatchEvent) => void;

/** Refused until the daemon has taken up its journal: the budget and the journal must see every task. */
export class StartingError extends RunwareDaemonError {
  constructor() {
    super("starting", "the daemon is starting (taking up its journal); retry in a moment");
  }
}

export class TaskService {
  private open = false;
  /** Tasks encoded by `admissionError`, for `run` to send as they are. */
  private readonly prepared = new WeakMap<Task, PreparedTask | TaskEncodingError>();
  private readonly labels: LabelBook;

  constructor(
    readonly engine: UpstreamEngine,
    readonly store: ResultStore,
    /** History, spend and the budget (ledger/ledger.ts). */
    readonly ledger: Ledger,
    maxLabels = 1_000,
  ) {
    this.labels = new LabelBook(maxLabels);
    // A caller's own getResponse shares its UUID with the task it asks about: it is an answer, not
    // a task, and must not be kept where it would pose as that task's state.
    engine.on("settled", (o) => {
      if (o.taskType !== "getResponse") store.put(o);
    });
  }

  /** The daemon is started (its journal taken up): batches are taken from now on. */
  opened(): void {
    this.open = true;
  }

  /** A pending task's state, or a finished one's within retention, as its caller sees it. */
  lookup(taskUUID: string): TaskSnapshot | undefined {
    const live = this.engine.get(taskUUID);
    if (live) return shown(live);
    const done = this.store.get(taskUUID);
    return done ? shown({ ...done }) : undefined;
  }

  /** A label new to the daemon is taken in, up to maxLabels; past that, the error to answer. */
  admitLabel(label: string): RunwareDaemonError | undefined {
    return this.labels.admit(label);
  }

  /** Set for a finished task evicted for room before its retention ran out (store.ts). */
  evicted(taskUUID: string): Eviction | undefined {
    return this.engine.get(taskUUID) ? undefined : this.store.evicted(taskUUID);
  }

  /** Resolves when the task is final (an async task the daemon gave up on is asked about again); undefined for an unknown UUID. */
  wait(taskUUID: string): Promise<TaskOutcome> | undefined {
    const h = this.engine.handle(taskUUID) ?? this.reopen(taskUUID);
    if (h) return h.done.then(shown);
    const done = this.store.get(taskUUID);
    return done ? Promise.resolve(shown(done)) : undefined;
  }

  /**
   * A task's state now. For an async task the daemon stopped waiting for (in doubt, Runware may
   * still finish it: TaskOutcome.askAgain), Runware is asked again and this resolves with what it
   * says, the record updated, instead of the stale failure (docs/local-api.md §2.8).
   */
  async current(taskUUID: string): Promise<TaskSnapshot | undefined> {
    const h = this.reopen(taskUUID);
    if (!h) return this.lookup(taskUUID);
    await h.nextReply();
    return this.lookup(taskUUID);
  }

  private reopen(taskUUID: string): TaskHandle | undefined {
    if (this.engine.get(taskUUID)) return undefined;
    const stale = this.store.get(taskUUID);
    return stale?.askAgain ? this.engine.reopen(stale) : undefined;
  }

  inFlight(taskUUID: string): boolean {
    return this.engine.get(taskUUID) !== undefined;
  }

  /**
   * Refuse a batch the engine cannot take as a whole (draining, no room in the queue by count or
   * bytes now, more than it could ever hold, a task too large to send), so that a batch is accepted
   * entirely or not at all. Returns the error, or undefined when it fits. Each task bound upstream
   * is encoded here, once (upstream/prepare.ts); `run` sends that encoding. A label new to the
   * daemon is taken in (up to maxLabels) only when everything else fits.
   */
  admissionError(tasks: readonly Task[], label: string): RunwareDaemonError | undefined {
    if (!this.open) return new StartingError();
    if (!this.engine.accepting) return new DrainingError();
    const over = this.ledger.admissionError(tasks);
    if (over) return over;
    const batch: PreparedTask[] = [];
    for (const t of tasks) {
      if (this.answeredLocally(t)) continue;
      try {
        const p = this.engine.prepare(t);
        this.prepared.set(t, p);
        batch.push(p);
      } catch (err) {
        if (err instanceof TaskTooLargeError) return err;
        if (!(err instanceof TaskEncodingError)) throw err;
        this.prepared.set(t, err); // this task fails alone, in run()
      }
    }
    // A label is taken in last: a batch refused for another reason leaves no label behind.
    return this.engine.admit(batch) ?? this.labels.admit(label);
  }

  /**
   * Run a batch; `sink` sees every event as it happens, with its task's index. Resolves once every
   * task is final, keeping no outcome itself: a caller holds what it needs and can let go of it
   * (a held answer counts against the local clients' byte budget, unsent.ts).
   */
  run(tasks: readonly Task[], caller: Caller, sink: (ev: BatchEvent, index: number) => void): Promise<void> {
    return Promise.all(tasks.map((t, i) => this.runOne(t, caller, (ev) => sink(ev, i)).then(() => undefined))).then(() => undefined);
  }

  private answeredLocally(t: Task): boolean {
    if (t.taskType === "ping") return true;
    return t.taskType === "getResponse" && (this.lookup(t.taskUUID) !== undefined || this.evicted(t.taskUUID) !== undefined);
  }

  private async runOne(task: Task, caller: Caller, sink: BatchSink): Promise<TaskOutcome> {
    if (task.taskType === "ping") {
      return this.local(task, [{ taskType: "ping", taskUUID: task.taskUUID, pong: true }], [], sink);
    }
    if (task.taskType === "getResponse") {
      const known = await this.current(task.taskUUID);
      if (known) return this.local(task, ...getResponseView(known), sink);
      const gone = this.evicted(task.taskUUID);
      if (gone) {
        const error = { ...evictedError(task.taskUUID, gone, this.store.limits), status: "error" };
        return Promise.resolve(this.local(task, [], [error], sink));
      }
    }
    let handle;
    try {
      const p = this.prepared.get(task);
      this.prepared.delete(task);
      if (p instanceof TaskEncodingError) throw p;
      handle = this.engine.submit(p ?? task, caller);
    } catch (err) {
      const e = err as RunwareDaemonError;
      return Promise.resolve(
        this.local(task, [], [{ code: e.code, message: e.message, taskUUID: task.taskUUID, taskType: task.taskType }], sink, "failed"),
      );
    }
    // The engine announces an async task's ack once, before its results (upstream/intake.ts).
    const hide = handle.snapshot().costHidden === true;
    handle.subscribe((ev) => {
      if (ev.type === "error") return;
      if (!hide) sink(ev);
      else if (ev.type === "final") sink({ type: "final", outcome: shown(ev.outcome) });
      else sink({ type: ev.type, item: withoutCost(ev.item) });
    });
    return handle.done;
  }

  private local(
    task: Task,
    data: DataItem[],
    errors: RunwareErrorObject[],
    sink: BatchSink,
    state: TaskOutcome["state"] = errors.length > 0 ? "failed" : "done",
  ): TaskOutcome {
    const outcome: TaskOutcome = { taskUUID: task.taskUUID, taskType: task.taskType, state, data, errors };
    queueMicrotask(() => {
      for (const item of data) sink({ type: "data", item });
      sink({ type: "final", outcome });
    });
    return outcome;
  }
}

/**
 * A task the daemon knows, in the shape of Runware's getResponse reply (docs/protocol.md §4.2: one
 * item per generation, each `processing` or `success`): finished items with `status: "success"`, a
 * `processing` placeholder for each one still due (with the task's last `progress`), errors with `status: "error"`.
 */
function getResponseView(s: TaskSnapshot): [DataItem[], RunwareErrorObject[]] {
  const data: DataItem[] = s.data.map((d) => ({ ...d, status: d["status"] ?? "success" }));
  if (s.state === "queued" || s.state === "sent") {
    const due = Math.max(1, (s.expected ?? 1) - s.data.length);
    const progress = s.progress === undefined ? {} : { progress: s.progress };
    for (let i = 0; i < due; i++) data.push({ taskType: s.taskType, taskUUID: s.taskUUID, status: "processing", ...progress });
  }
  return [data, s.errors.map((e) => ({ ...e, status: "error" }))];
}
