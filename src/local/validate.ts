/**
 * Input checks for a batch of tasks from a local client (docs/local-api.md §2.3, `POST /v1`). A bad batch is
 * refused as a whole, with a status and a Runware-shaped error, before anything reaches the engine.
 * The checks are about the envelope only; task parameters are Runware's to judge.
 */
import { z } from "zod";
import { randomUUID } from "node:crypto";
import type { RunwareErrorObject } from "../errors.js";
import { nestedDeeperThan } from "../protocol/json-limits.js";
import type { Task } from "../protocol/schemas.js";

export interface Refusal {
  status: number;
  error: RunwareErrorObject;
}

/** The one field of the envelope a string check cannot judge (zod, at the edge). */
const TaskUUIDSchema = z.uuidv4();

function refuse(status: number, code: string, message: string, extra: Partial<RunwareErrorObject> = {}): Refusal {
  return { status, error: { code, message, ...extra } };
}

/**
 * Search for an `apiKey` field anywhere in the value, at any depth. Iterative: a parsed body has no
 * cycles and is bounded by the body limit, but its nesting is not, so no depth cut-off: a key any
 * number of levels down must not reach Runware.
 */
function hasApiKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (const child of v) stack.push(child); // not push(...v): a huge array would overflow the call
      continue;
    }
    for (const [k, child] of Object.entries(v)) {
      if (k === "apiKey") return true;
      stack.push(child);
    }
  }
  return false;
}

/**
 * Turn a parsed JSON body into tasks with UUIDs (assigned where missing), or the reason to refuse.
 * `inUse(uuid)` says whether the daemon already has that taskUUID in flight; a task nested deeper
 * than `maxJsonDepth` is refused (protocol/json-limits.ts: it could not be encoded on its way).
 */
export function validateBatch(body: unknown, inUse: (uuid: string) => boolean, maxJsonDepth: number): Task[] | Refusal {
  if (!Array.isArray(body)) return refuse(400, "invalidRequestBody", "the body must be a JSON array of task objects");
  if (body.length === 0) return refuse(400, "invalidRequestBody", "the task array is empty");
  const seen = new Set<string>();
  const tasks: Task[] = [];
  for (let i = 0; i < body.length; i++) {
    const el: unknown = body[i];
    const at = `task ${i}`;
    if (el === null || typeof el !== "object" || Array.isArray(el)) {
      return refuse(400, "invalidRequestBody", `${at} is not an object`);
    }
    const rec = el as Record<string, unknown>;
    if (typeof rec["taskType"] !== "string" || rec["taskType"] === "") {
      return refuse(400, "missingTaskType", `${at} has no string taskType`, { parameter: "taskType" });
    }
    const taskType = rec["taskType"];
    if (taskType === "authentication") {
      return refuse(400, "unsupportedTaskType", `${at}: authentication is handled by the daemon, which holds the API key`, {
        parameter: "taskType",
        taskType,
      });
    }
    if (hasApiKey(el)) {
      // The value is never echoed: it may be a real key.
      return refuse(400, "unsupportedParameter", `${at} carries an apiKey field; the daemon holds the key, remove it`, {
        parameter: "apiKey",
        taskType,
      });
    }
    if (rec["deliveryMethod"] === "stream") {
      // Server-sent events exist only on Runware's REST API, never over its WebSocket (docs/protocol.md §3.3).
      return refuse(
        400,
        "unsupportedDeliveryMethod",
        `${at}: deliveryMethod "stream" (server-sent events) exists only on Runware's REST API, not over its WebSocket; omit deliveryMethod for one answer with every result, or use "async"`,
        { parameter: "deliveryMethod", taskType },
      );
    }
    const given = rec["taskUUID"];
    if (given !== undefined && !TaskUUIDSchema.safeParse(given).success) {
      return refuse(400, "invalidTaskUUID", `${at}: taskUUID must be a UUID v4`, { parameter: "taskUUID", taskType });
    }
    // After the apiKey check, which has no depth cut-off (a key is refused as a key at any depth),
    // and after the taskUUID check, so the UUID named here is a real one.
    if (nestedDeeperThan(el, maxJsonDepth)) {
      const uuid = given as string | undefined;
      return refuse(
        400,
        "invalidRequestBody",
        `${at}${uuid ? ` (taskUUID ${uuid})` : ""} is nested deeper than ${maxJsonDepth} levels, the daemon's limit (maxJsonDepth)`,
        {
          taskType,
          ...(uuid ? { taskUUID: uuid } : {}),
        },
      );
    }
    const taskUUID = (given as string | undefined) ?? randomUUID();
    // getResponse reuses the UUID of the task it asks about (docs/protocol.md §4.2): no conflict.
    if (taskType !== "getResponse" && (seen.has(taskUUID) || inUse(taskUUID))) {
      return refuse(
        409,
        "conflictTaskUUID",
        `${at}: taskUUID ${taskUUID} is ${seen.has(taskUUID) ? "repeated in this batch" : "already in flight"}`,
        {
          parameter: "taskUUID",
          taskUUID,
          taskType,
        },
      );
    }
    seen.add(taskUUID);
    // The caller's object goes on as it is (no copy per task) unless a UUID must be added.
    tasks.push((given === undefined ? { ...rec, taskUUID } : rec) as Task);
  }
  return tasks;
}

export function isRefusal(v: Task[] | Refusal): v is Refusal {
  return !Array.isArray(v);
}
