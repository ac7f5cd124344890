/**
 * Shapes the simulator puts on the wire: `{data:[...], errors:[...]}` (docs/protocol.md §1.3) and
 * Runware's error object (§5.1). Codes and messages the simulator emits live here too.
 */
import type { RunwareErrorObject } from "../errors.js";

export type Item = Record<string, unknown>;
export type WireError = RunwareErrorObject;

export interface OutFrame {
  data?: Item[];
  errors?: WireError[];
}

/** Messages for the codes the simulator emits; Runware's own wording where docs/protocol.md quotes it. */
const MESSAGES: Record<string, string> = {
  invalidApiKey: "Invalid API key. Get one at https://my.runware.ai/signup",
  missingApiKey: "Missing API key. Authenticate first: the first message must be an authentication task.",
  invalidRequestBody: "The request body must be a JSON array of task objects.",
  conflictTaskUUID: "The taskUUID is already in use by another task. Use a new UUID v4 for each task.",
  taskNotFound: "No task with this taskUUID was found, or its results have expired.",
  unsupportedTaskType: "This taskType is not supported.",
  internalServerError: "An internal server error occurred. Please retry.",
  timeoutProvider: "The external provider did not respond within the timeout window. The request was automatically terminated.",
  providerRateLimitExceeded: "The provider's rate limit was exceeded. Please retry later.",
  insufficientCredits: "Insufficient credits to run this task.",
};

/**
 * Test hook (`nestResults`): an item marked with this symbol carries a field `nested` that is
 * `depth` arrays deep on the wire, to show what a client does with a reply it cannot re-encode.
 * JSON.stringify cannot write such a value (its stack overflows a few thousand levels down), so
 * the field holds a token and `encodeFrame` splices the nesting into the text. JSON.stringify
 * skips symbol keys; spreads copy them, so the mark follows an item into getResponse replies.
 */
const DEEP = Symbol("sim.deepField");
const DEEP_TOKEN = "\u0000simDeep:";
const DEEP_TOKEN_JSON = /"\\u0000simDeep:(\d+)"/g;

export function withDeepField(fields: Item, depth: number): Item {
  return { ...fields, nested: `${DEEP_TOKEN}${depth}`, [DEEP]: true };
}

/** A frame as text; `withDeepField` items get their nesting here (and only they cost anything). */
export function encodeFrame(frame: OutFrame): string {
  const text = JSON.stringify(frame);
  if (!frame.data?.some((i) => (i as Record<symbol, unknown>)[DEEP] === true)) return text;
  return text.replace(DEEP_TOKEN_JSON, (_, d: string) => `${"[".repeat(Number(d))}${"]".repeat(Number(d))}`);
}

function messageFor(code: string): string {
  return MESSAGES[code] ?? `The task failed (${code}).`;
}

export function wireError(code: string, extra: Partial<WireError> = {}): WireError {
  return { code, message: messageFor(code), ...extra };
}

/** `invalidWidth` / `missingPositivePrompt` from a parameter name, keeping acronyms (`CFGScale`). */
export function paramCode(kind: "invalid" | "missing", parameter: string): string {
  return kind + parameter.charAt(0).toUpperCase() + parameter.slice(1);
}

export function isRecord(v: unknown): v is Item {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** RFC 9562 textual UUID (any version); Runware asks for v4 but we do not police the version nibble. */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(v: unknown): v is string {
  return typeof v === "string" && UUID_RE.test(v);
}

/** A task-level failure found while producing a result item; the runner sends its wire error instead of internalServerError. */
export class SimTaskError extends Error {
  readonly code: string;
  constructor(readonly wire: WireError) {
    super(wire.message);
    this.name = "SimTaskError";
    this.code = wire.code;
  }
}
