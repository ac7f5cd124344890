/**
 * Runs an accepted task: its items finish at moments spread over `workMs` and go out in frames per
 * the split (sync), or are only recorded for `getResponse` (async, docs/protocol.md §4). An
 * injected fault fails the task with its code after `workMs` instead.
 */
import type { AsyncErrorForm, SplitMode } from "./options.js";
import type { TaskRecord, TaskRegistry } from "./registry.js";
import type { Rng } from "./rng.js";
import { planFrames } from "./schedule.js";
import type { TaskPlan } from "./tasks/index.js";
import type { Timers } from "./timers.js";
import { wireError, withDeepField, type Item, type OutFrame, type WireError } from "./wire.js";

export interface RunEnv {
  timers: Timers;
  registry: TaskRegistry;
  rng: Rng;
  workMs: number;
  split: SplitMode;
  /** Test hook (`nestResults`): the depth to nest the next result item at, if any. */
  deepen(): number | undefined;
  onError(err: unknown): void;
}

function fail(rec: TaskRecord, env: RunEnv, error: WireError): void {
  rec.generations = rec.generations.map(() => ({ state: "error", error }));
  env.registry.finish(rec, "error");
  if (!rec.async) rec.session.emit({ errors: [error] });
}

export function runTask(rec: TaskRecord, plan: TaskPlan, injectedCode: string | undefined, env: RunEnv): void {
  const ids = { taskType: rec.taskType, taskUUID: rec.taskUUID };
  if (injectedCode !== undefined) {
    env.timers.after(env.workMs, () => fail(rec, env, wireError(injectedCode, ids)));
    return;
  }
  let remaining = plan.items.length;
  for (const group of planFrames(plan.items.length, plan.split ?? env.split, env.rng, env.workMs)) {
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
        env.onError(err);
        fail(rec, env, wireError("internalServerError", ids));
        return;
      }
      remaining -= group.indices.length;
      if (remaining === 0) env.registry.finish(rec, "success");
      if (!rec.async) rec.session.emit({ data: items });
    });
  }
}

/** The async acknowledgement (§4.1; `status` is a toggle because the docs do not say). */
export function ackFrame(rec: TaskRecord, withStatus: boolean): OutFrame {
  return { data: [{ taskType: rec.taskType, taskUUID: rec.taskUUID, ...(withStatus ? { status: "processing" } : {}) }] };
}

/**
 * The `getResponse` reply: the full current state, one entry per generation, under the ORIGINAL
 * taskType (§4.2). Failures go top-level (`errors[]` with `status:"error"`, the docs' form) or inside
 * `data` (`status:"error"` + `error:{code,message}`, the generated schema's form).
 */
export function pollFrame(rec: TaskRecord, form: AsyncErrorForm): OutFrame {
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
  for (const g of rec.generations) {
    if (g.state === "processing") data.push({ ...ids, status: "processing" });
    // modelUpload items carry their own `status` (validated…ready), which wins over "success".
    else if (g.state === "success") data.push({ ...ids, status: "success", ...g.fields });
    else failed(g.error);
  }
  return { ...(data.length ? { data } : {}), ...(errors.length ? { errors } : {}) };
}
