/**
 * Frames in and out. Outbound frames are always JSON arrays of tasks, even for one task
 * (docs/protocol.md §1). Inbound frames are parsed once, checked against the loose schema, and
 * split into per-task slices so a router can hand each slice to its pending task in O(1)
 * (rw-ts/rw-py group by taskUUID; sdk-js hands a task the frame's *first* error, docs/protocol.md §10.4).
 */
import { ProtocolError, type RunwareErrorObject } from "../errors.js";
import { DEFAULT_MAX_JSON_DEPTH, nestedDeeperThan } from "./json-limits.js";
import { InboundFrameSchema, ErrorObjectSchema, type DataItem, type InboundFrame } from "./schemas.js";

export const AUTH_TASK_TYPE = "authentication";
export const PING_TASK_TYPE = "ping";

/** The keepalive frame (docs/protocol.md §2.5). */
export const PING_FRAME = '[{"taskType":"ping","ping":true}]';
export const PONG_FRAME = '{"data":[{"taskType":"ping","pong":true}]}';

export function encodeTasks(tasks: readonly object[]): string {
  return JSON.stringify(tasks);
}

/** The first frame on every connection; carries the previous session UUID when resuming. */
export function encodeAuth(apiKey: string, connectionSessionUUID?: string): string {
  const task: Record<string, string> = { taskType: AUTH_TASK_TYPE, apiKey };
  if (connectionSessionUUID) task["connectionSessionUUID"] = connectionSessionUUID;
  return JSON.stringify([task]);
}

export interface Slice {
  items: DataItem[];
  errors: RunwareErrorObject[];
}

export interface SplitFrame {
  /** Items and errors that carry a `taskUUID`, grouped by it, in arrival order. */
  readonly tasks: Map<string, Slice>;
  /** `authentication` items and errors (they carry no taskUUID). */
  readonly auth: Slice;
  /** Number of pong items in the frame. */
  pongs: number;
  /** Errors with neither a taskUUID nor a protocol taskType: the engine decides who they concern. */
  readonly orphanErrors: RunwareErrorObject[];
  /** Items with no taskUUID that are not auth or pong. */
  readonly orphanItems: DataItem[];
}

function sliceFor(map: Map<string, Slice>, uuid: string): Slice {
  let slice = map.get(uuid);
  if (!slice) {
    slice = { items: [], errors: [] };
    map.set(uuid, slice);
  }
  return slice;
}

/** The daemon's error for a task whose reply it cannot pass on (code chosen by the daemon, not Runware). */
export const INVALID_RESPONSE_CODE = "invalidResponse";

/**
 * An item or error nested past the limit never reaches a local encoder (json-limits.ts): it becomes
 * an error for its task, which then ends with it; one that names no task sinks its whole frame,
 * like an unparseable one.
 */
function tooDeep(part: { taskUUID?: unknown; taskType?: unknown }, maxDepth: number): RunwareErrorObject {
  const { taskUUID, taskType } = part;
  if (typeof taskUUID !== "string" || !taskUUID) throw new ProtocolError(`frame is nested deeper than ${maxDepth} levels`);
  return {
    code: INVALID_RESPONSE_CODE,
    message: `Runware's reply for this task is nested deeper than ${maxDepth} levels; the daemon does not pass it on`,
    taskUUID,
    ...(typeof taskType === "string" ? { taskType } : {}),
  };
}

function addError(out: SplitFrame, err: RunwareErrorObject, maxDepth: number): void {
  if (nestedDeeperThan(err, maxDepth)) err = tooDeep(err, maxDepth);
  if (typeof err.taskUUID === "string" && err.taskUUID) sliceFor(out.tasks, err.taskUUID).errors.push(err);
  else if (err.taskType === AUTH_TASK_TYPE) out.auth.errors.push(err);
  else out.orphanErrors.push(err);
}

/** The pre-2024 shape `{"error":true,"errorId":19,"errorMessage":"Invalid api key"}` (old docs). */
function legacyError(frame: InboundFrame): RunwareErrorObject {
  const message = typeof frame["errorMessage"] === "string" ? frame["errorMessage"] : "upstream reported an error";
  if (frame["errorId"] === 19) return { code: "invalidApiKey", message, taskType: AUTH_TASK_TYPE };
  return { code: "legacyError", message };
}

function addFrame(out: SplitFrame, raw: unknown, maxDepth: number): void {
  const parsed = InboundFrameSchema.safeParse(raw);
  if (!parsed.success) throw new ProtocolError(`frame is not Runware-shaped: ${parsed.error.issues[0]?.message ?? "?"}`);
  const frame = parsed.data;
  const data = frame.data == null ? [] : Array.isArray(frame.data) ? frame.data : [frame.data];
  for (const item of data) {
    if (nestedDeeperThan(item, maxDepth)) {
      addError(out, tooDeep(item, maxDepth), maxDepth);
      continue;
    }
    if (typeof item.taskUUID === "string" && item.taskUUID) sliceFor(out.tasks, item.taskUUID).items.push(item);
    else if (item.taskType === AUTH_TASK_TYPE) out.auth.items.push(item);
    else if (item.taskType === PING_TASK_TYPE && item["pong"] === true) out.pongs++;
    else out.orphanItems.push(item);
  }
  for (const err of frame.errors ?? []) addError(out, err, maxDepth);
  if (frame.error !== undefined && frame.error !== null) {
    const one = ErrorObjectSchema.safeParse(frame.error);
    if (one.success) addError(out, one.data, maxDepth);
    else if (Array.isArray(frame.error)) {
      for (const e of frame.error) {
        const p = ErrorObjectSchema.safeParse(e);
        if (p.success) addError(out, p.data, maxDepth);
      }
    } else if (frame.error === true) addError(out, legacyError(frame), maxDepth);
    else if (typeof frame.error === "string") addError(out, { code: "unknownError", message: frame.error }, maxDepth);
  }
}

/**
 * Parse one inbound text frame. Accepts an object frame or an array of object frames (sdk-js
 * tolerates `[{"errors":[...]}]`). Throws `ProtocolError` for anything that is not JSON or not
 * Runware-shaped; the caller logs it and carries on (a garbage frame must not kill a connection).
 * Items and errors nested deeper than `maxDepth` are replaced as `tooDeep` says.
 */
export function splitFrame(text: string, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): SplitFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ProtocolError(`frame is not JSON (${text.length} bytes)`, { cause });
  }
  const out: SplitFrame = {
    tasks: new Map(),
    auth: { items: [], errors: [] },
    pongs: 0,
    orphanErrors: [],
    orphanItems: [],
  };
  if (Array.isArray(raw)) for (const f of raw) addFrame(out, f, maxDepth);
  else addFrame(out, raw, maxDepth);
  return out;
}
