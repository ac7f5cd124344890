/**
 * Runs an accepted task: its items finish at moments spread over `workMs` and go out in frames per
 * the split (sync), or are only recorded for `getResponse` (async, docs/protocol.md §4). An
 * injected fault fails the task with its code after `workMs` instead.
 */
import { postResult } from "./webhook.js";
import type { AsyncErrorForm, SplitMode } from "./options.js";
import { progressAt, type TaskRecord, type TaskRegistry } from "./registry.js";
import type { Rng } from "./rng.js";
import { planFrames } from "./schedule.js";
import type { TaskPlan } from "./tasks/index.js";
import type { Timers } from "./timers.js";
import { SimTaskError, wireError, withDeepField, type Item, type OutFrame, type WireError } from "./wire.js";

export interface RunEnv {
  timers: Timers;
  registry: TaskRegistry;
  rng: Rng;
  /** This task's work (or render) time. */
  workMs: number;
  split: SplitMode;
  /** Record a render clock so getResponse can report `progress` (video, audio). */
  progress: boolean;
  /** Monotonic milliseconds. */
  now(): number;
  /** Test hook (`nestResults`): the depth to nest the next result item at, if any. */
  deepen(): number | undefined;
  /** Charge the account for one finished billable item (TaskPlan.cost). */
  charge(usd: number): void;
  onError(err: unknown): void;
}

function fail(rec: TaskRecord, env: RunEnv, error: WireError): void {
  rec.generations = rec.generations.map(() => ({ state: "error", error }));
  env.registry.finish(rec, "error");
  if (rec.webhook) postResult(rec.webhook, { errors: [error] }, (err) => env.onError(err));
  else if (!rec.async) rec.session.emit({ errors: [error] });
}

export function runTask(rec: TaskRecord, plan: TaskPlan, injectedCode: string | undefined, env: RunEnv): void {
  const ids = { taskType: rec.taskType, taskUUID: rec.taskUUID };
  const startedAt = env.now();
  if (injectedCode !== undefined) {
    if (env.progress) rec.progress = { startedAt, finishAfter: plan.items.map(() => env.workMs) };
    env.timers.after(env.workMs, () => fail(rec, env, wireError(injectedCode, ids)));
    return;
  }
  let remaining = plan.items.length;
  const groups = planFrames(plan.items.length, plan.split ?? env.split, env.rng, env.workMs);
  if (env.progress) {
    const finishAfter: number[] = [];
    for (const g of groups) for (const i of g.indices) finishAfter[i] = g.at;
    rec.progress = { startedAt, finishAfter };
  }
  for (const group of groups) {
    env.timers.after(group.at, () => {
      if (rec.status !== "processing") return;
      const items: Item[] = [];
      try {
        for (const i of group.indices) {
          const made = plan.items[i]!();
          const depth = env.deepen();
          const fields = depth === undefined ? made : withDeepField(made, depth);
          rec.generations[i] = { state: "success", fields };
          items.push({ ...ids, ...fields });
        }
      } catch (err) {
        if (err instanceof SimTaskError) {
          fail(rec, env, { ...err.wire, ...ids });
          return;
        }
        env.onError(err);
        fail(rec, env, wireError("internalServerError", ids));
        return;
      }
      if (plan.cost !== undefined) for (let k = 0; k < group.indices.length; k++) env.charge(plan.cost);
      remaining -= group.indices.length;
      if (remaining === 0) env.registry.finish(rec, "success");
      if (rec.webhook) for (const item of items) postResult(rec.webhook, item, (err) => env.onError(err));
      else if (!rec.async) rec.session.emit({ data: items });
    });
  }
}

/** The async acknowledgement (§4.1; `status` is a toggle because the docs do not say). */
export function ackFrame(rec: TaskRecord, withStatus: boolean): OutFrame {
  return { data: [{ taskType: rec.taskType, taskUUID: rec.taskUUID, ...(withStatus ? { status: "processing" } : {}) }] };
}

/**
 * The `getResponse` reply: the full current state, one entry per generation, under the ORIGINAL
 * taskType (§4.2); a processing generation of a rendering task (video, audio) carries `progress`.
 * Failures go top-level (`errors[]` with `status:"error"`, the docs' form) or inside `data`
 * (`status:"error"` + `error:{code,message}`, the generated schema's form).
 */
export function pollFrame(rec: TaskRecord, form: AsyncErrorForm, now: number): OutFrame {
  const ids = { taskType: rec.taskType, taskUUID: rec.taskUUID };
  const data: Item[] = [];
  const errors: WireError[] = [];
  const failed = (e: WireError) => {
    if (form === "top") errors.push({ ...e, ...ids, status: "error" });
    else
      data.push({
        ...ids,
        status: "error",
        error: { code: e.code, message: e.message, ...(e.parameter ? { parameter: e.parameter } : {}) },
      });
  };
  if (rec.failure) failed(rec.failure);
  rec.generations.forEach((g, i) => {
    if (g.state === "processing") {
      const progress = rec.progress ? { progress: progressAt(rec.progress, i, now) } : {};
      data.push({ ...ids, status: "processing", ...progress });
    }
    // modelUpload items carry their own `status` (validated…ready), which wins over "success".
    else if (g.state === "success") data.push({ ...ids, status: "success", ...g.fields });
    else failed(g.error);
  });
  return { ...(data.length ? { data } : {}), ...(errors.length ? { errors } : {}) };
}
