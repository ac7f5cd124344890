/**
 * A finished task as the history keeps it (issue 16; docs/local-api.md §2.10): who asked, what was
 * asked (model, prompt, seed: enough to run it again), what came out (every output's URL), what it
 * cost, how long it took. Pure: built from the task as sent and its outcome.
 */
import type { RunwareErrorObject } from "../../errors.js";
import { costOf, reportsCost } from "../../protocol/cost.js";
import { hasWebhook } from "../../protocol/expect.js";
import type { HistoryEntry, HistorySummary, Uncosted } from "../../protocol/history.js";
import type { DataItem } from "../../protocol/schemas.js";
import type { TaskOutcome } from "../../upstream/task.js";

/** A string longer than this (or a data: URI) is kept as a note of its length: base64 media is not history. */
export const KEPT_STRING_CHARS = 2_048;
/** Result fields that name an output (docs/protocol.md §3.4, §9). */
const OUTPUT_FIELDS = ["imageURL", "videoURL", "audioURL", "mediaURL", "textURL", "meshURL"] as const;

export interface Finished {
  readonly id: number;
  readonly outcome: TaskOutcome;
  /** The task as sent upstream (JSON), when the daemon still has it. */
  readonly text: string | undefined;
  readonly acceptedAt: number;
  readonly finishedAt: number;
}

/** The entry for a finished task. */
export function entryOf(f: Finished): HistoryEntry {
  const o = f.outcome;
  const input = inputOf(f.text, o.costHidden === true);
  const model = input?.["model"];
  const prompt = input?.["positivePrompt"] ?? input?.["prompt"];
  const seed = input?.["seed"] ?? o.data.find((d) => typeof d["seed"] === "number")?.["seed"];
  const cost = costOf(o.data);
  const uncosted = cost === undefined ? uncostedWhy(o, input) : undefined;
  return {
    id: f.id,
    taskUUID: o.taskUUID,
    taskType: o.taskType,
    label: o.label ?? "unlabelled",
    state: o.state,
    ...(typeof model === "string" ? { model } : {}),
    ...(typeof prompt === "string" ? { prompt } : {}),
    ...(typeof seed === "number" ? { seed } : {}),
    outputs: o.data.flatMap(outputsOf),
    ...(cost !== undefined ? { cost } : {}),
    ...(uncosted ? { uncosted } : {}),
    acceptedAt: new Date(f.acceptedAt).toISOString(),
    finishedAt: new Date(f.finishedAt).toISOString(),
    durationMs: Math.max(0, f.finishedAt - f.acceptedAt),
    errors: o.errors.map(briefError),
    ...(input ? { input } : {}),
    data: o.data.map(resultOf),
  };
}

/** What a list shows of an entry: everything but the task and its results in full. */
export function summaryOf(e: HistoryEntry): HistorySummary {
  const { input: _input, data: _data, ...summary } = e;
  return summary;
}

/** Why a task that should report a cost has none; undefined for free task types. */
function uncostedWhy(o: TaskOutcome, input: Record<string, unknown> | undefined): Uncosted | undefined {
  if (!reportsCost(o.taskType)) return undefined;
  if (input && hasWebhook(input)) return "webhook";
  if (o.state === "in-doubt") return "in-doubt";
  if (o.state === "failed") return "failed";
  return "unreported";
}

/** A result as kept: shortened, without the taskUUID and taskType its entry already names. */
function resultOf(item: DataItem): Record<string, unknown> {
  const { taskUUID: _uuid, taskType: _type, ...rest } = item;
  return shortened(rest) as Record<string, unknown>;
}

function outputsOf(item: DataItem): string[] {
  const urls: string[] = [];
  for (const field of OUTPUT_FIELDS) {
    const v = item[field];
    if (typeof v === "string" && !v.startsWith("data:")) urls.push(v);
  }
  const files = (item["outputs"] as { files?: unknown } | undefined)?.files;
  if (Array.isArray(files)) for (const f of files) if (typeof f?.url === "string") urls.push(f.url as string);
  return urls;
}

function briefError(e: RunwareErrorObject): RunwareErrorObject {
  return { code: e.code, message: typeof e.message === "string" ? e.message.slice(0, KEPT_STRING_CHARS) : e.message };
}

/**
 * The task as the caller sent it, ready to run again: the `includeCost` the daemon added
 * (protocol/cost.ts) is taken out again, and so is its taskUUID (a new run needs a new one).
 */
function inputOf(text: string | undefined, costHidden: boolean): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let task: unknown;
  try {
    task = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof task !== "object" || task === null || Array.isArray(task)) return undefined;
  const kept = shortened(task) as Record<string, unknown>;
  if (costHidden) delete kept["includeCost"];
  delete kept["taskUUID"];
  return kept;
}

/** A copy with long strings and data: URIs replaced by a note of their length. */
export function shortened(v: unknown): unknown {
  if (typeof v === "string") {
    return v.length > KEPT_STRING_CHARS || v.startsWith("data:") ? `[omitted: ${v.length} characters]` : v;
  }
  if (Array.isArray(v)) return v.map(shortened);
  if (typeof v === "object" && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = shortened(x);
    return out;
  }
  return v;
}
