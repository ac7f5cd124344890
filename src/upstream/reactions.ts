/**
 * What follows an error, a "not found", or a dropped or replaced link: retry, poll, resubmit (the
 * rules are the pure functions of decisions.ts; docs/protocol.md §2, §4, §5). Phases change only
 * through the engine's `moveTo()`, reached here through `TaskCore`.
 */
import type { RunwareErrorObject } from "../errors.js";
import type { Logger } from "../log.js";
import type { RandomSource } from "./backoff.js";
import type { ReadyInfo } from "./connection.js";
import * as decide from "./decisions.js";
import { announceAck } from "./intake.js";
import type { FinalPhase, Phase } from "./lifecycle.js";
import type { EngineOptions } from "./options.js";
import { jittered, nextDelay, type PollSchedule } from "./poll-schedule.js";
import { inDoubt } from "./replies.js";
import { notify, type TaskRecord } from "./task.js";
import type { Clock } from "../util/clock.js";

/** The engine's side: the one owner of phases, slots, the queue and the outbox. */
export interface TaskCore {
  readonly opts: EngineOptions;
  readonly random: RandomSource;
  readonly clock: Clock;
  readonly log: Logger;
  moveTo(t: TaskRecord, to: Phase, reason: string): void;
  settle(t: TaskRecord, state: FinalPhase, errors: RunwareErrorObject[], reason: string): void;
  /** A frame owed upstream by a task that holds its slot. */
  owe(t: TaskRecord, kind: "submit" | "poll"): void;
  releaseSlot(t: TaskRecord): void;
  /** Back to the front of its caller's queue. */
  requeue(t: TaskRecord): void;
  /** Runware has the async task (engine: slot, deadline). */
  acked(t: TaskRecord): void;
  /** Every task's next poll, one timer for all (poll-schedule.ts). */
  readonly polls: PollSchedule<TaskRecord>;
  /** A transient error is retried (counted by code for metrics). */
  retried(code: string | undefined): void;
}

export class Reactions {
  constructor(private readonly core: TaskCore) {}

  /** The one way a task goes upstream again under its own UUID; the cap applies to "not found" (decisions.resubmit). */
  resubmit(t: TaskRecord, cause: decide.ResubmitCause, reason: string, errors: RunwareErrorObject[] = []): void {
    const d = decide.resubmit(cause, t.notFoundResends, this.core.opts.maxRecoveryResends);
    if (d.do === "in-doubt") {
      this.core.settle(t, "in-doubt", [...errors, inDoubt(t, d.message)], reason);
      return;
    }
    if (cause === "not-found") t.notFoundResends++;
    this.clearTimer(t);
    this.core.moveTo(t, "sent", reason);
    this.core.owe(t, "submit");
  }

  onErrors(t: TaskRecord, errors: RunwareErrorObject[]): void {
    const d = decide.onErrors(errors, t, this.core.opts, this.core.random);
    switch (d.do) {
      case "in-doubt":
        this.core.settle(t, "in-doubt", [...errors, inDoubt(t, d.message)], "conflictTaskUUID for a task getResponse cannot fetch");
        return;
      case "poll":
        this.core.log.info({ taskUUID: t.taskUUID, submits: t.submits }, "conflictTaskUUID: switching to getResponse");
        t.acked = true;
        this.core.acked(t);
        announceAck(t, this.core.log);
        this.startPolling(t, 0, "conflictTaskUUID: Runware has this UUID");
        return;
      case "not-found":
        this.onNotFound(t, errors);
        return;
      case "retry":
        this.retryLater(t, errors, d.delayMs);
        return;
      case "fail":
        this.core.settle(t, "failed", errors, `error ${errors[0]?.code ?? "unknownError"}`);
        return;
    }
  }

  retryLater(t: TaskRecord, errors: RunwareErrorObject[], delayMs: number): void {
    this.core.retried(errors[0]?.code);
    t.retries++;
    for (const e of errors) notify(t, { type: "error", error: e, retrying: true }, this.core.log);
    this.core.log.info(
      { taskUUID: t.taskUUID, code: errors[0]?.code, retry: t.retries, delay: delayMs },
      "transient error; retrying under the same taskUUID",
    );
    this.core.releaseSlot(t); // the freed slot serves the queue during the wait
    this.core.moveTo(t, "retry-wait", `transient ${errors[0]?.code ?? "error"}`);
    t.acked = false;
    t.pollDelayMs = t.firstPollMs;
    this.armTimer(t, delayMs, () => {
      this.core.moveTo(t, "queued", "retry delay over");
      this.core.requeue(t);
    });
  }

  onNotFound(t: TaskRecord, errors: RunwareErrorObject[]): void {
    const d = decide.onNotFound(t);
    switch (d.do) {
      case "ignore":
        return;
      case "fail":
        this.core.settle(t, "failed", errors, "Runware no longer knows the async task");
        return;
      case "in-doubt":
        this.core.settle(t, "in-doubt", [...errors, inDoubt(t, d.message)], "Runware forgot an acknowledged task");
        return;
      case "resubmit":
        this.resubmit(t, "not-found", "getResponse: not found and never acknowledged: our send was lost", errors);
        return;
    }
  }

  startPolling(t: TaskRecord, delayMs: number, reason: string): void {
    this.core.moveTo(t, "polling", reason);
    t.pollDelayMs = t.firstPollMs;
    this.armPoll(t, delayMs);
  }

  /** The next getResponse after the current delay (jittered), growing ×pollFactor up to pollMaxMs (poll-schedule.ts). */
  schedulePoll(t: TaskRecord): void {
    this.core.moveTo(t, "polling", "results are fetched with getResponse");
    this.armPoll(t, jittered(t.pollDelayMs, this.core.random));
    t.pollDelayMs = nextDelay(t.pollDelayMs, this.core.opts);
  }

  /** A getResponse owed after `delayMs`, in the shared poll schedule (the engine sends the due ones in one frame). */
  armPoll(t: TaskRecord, delayMs: number): void {
    this.clearTimer(t);
    this.core.polls.schedule(t, delayMs);
  }

  /** A task has one retry/poll/grace timer at a time (its deadline is in `deadlines`). */
  armTimer(t: TaskRecord, delayMs: number, fn: () => void): void {
    this.clearTimer(t);
    t.timer = this.core.clock.setTimeout(() => {
      t.timer = undefined;
      if (!t.outcome) fn();
    }, delayMs);
  }

  clearTimer(t: TaskRecord): void {
    this.core.clock.clearTimeout(t.timer);
    t.timer = undefined;
    this.core.polls.remove(t);
  }

  /** The link that carried `epoch` is gone: what was sent on it is recovering. */
  linkDown(tasks: Iterable<TaskRecord>, epoch: number, closeCode: number | undefined): void {
    for (const t of tasks) {
      if (t.phase === "queued" || t.phase === "retry-wait" || t.sentEpoch > epoch) continue;
      const why = decide.undelivered(t, closeCode);
      if (why === "too-big" && ++t.tooBigStrikes >= decide.MAX_TOO_BIG_STRIKES) {
        const message = `Runware closed the link as a message was too big (1009) ${t.tooBigStrikes} times while this task was in it; it is ${t.bytes} bytes encoded: upload large media first (imageUpload)`;
        this.core.settle(
          t,
          "failed",
          [{ code: "taskTooLarge", message, taskUUID: t.taskUUID, taskType: t.taskType }],
          "refused as too big",
        );
        continue;
      }
      if (why) t.undelivered = true;
      else {
        t.lostContact = true;
        t.reached = true; // it may have got there: from now on, not knowing means in doubt
      }
      if (t.phase === "sent")
        this.core.moveTo(
          t,
          "recovering",
          t.undelivered ? "the link dropped before Runware got it" : "the upstream link dropped after the send",
        );
    }
  }

  /** A new link is ready: each task sent on an older one polls, waits for the replay, or is resubmitted. */
  linkReady(tasks: readonly TaskRecord[], info: ReadyInfo): void {
    for (const t of tasks) {
      const d = decide.onReady(t, info);
      if (d.do === "none") continue;
      if (d.do === "poll-now") {
        this.armPoll(t, 0);
        continue;
      }
      if (t.phase === "sent") this.core.moveTo(t, "recovering", "the upstream link was replaced");
      if (d.do === "resubmit" && t.undelivered) this.resubmit(t, "undelivered", "its last submission never reached Runware");
      else if (d.do === "resubmit") this.resubmit(t, "fresh-session", "fresh session: Runware's buffer is gone");
      else if (d.do === "wait") continue; // the resumed session replays its reports and the rest follow
      else
        this.armTimer(t, this.core.opts.recoveryGraceMs, () => this.startPolling(t, 0, "resumed: what the replay did not bring is polled"));
    }
  }
}
