/**
 * `textInference` (docs/protocol.md §3.3, §8; shapes: the TS SDK's TextInferenceParams and
 * TextInferenceResult): `model` (an AIR), `messages` (`role` user or assistant, `content`, the last
 * one the user's), `numberResults` items under one taskUUID, each a `text` with `finishReason`,
 * `usage` with `includeUsage`, `cost` with `includeCost`. `deliveryMethod: "stream"` is REST-only
 * and refused by the dispatcher like any unknown delivery method. The reply is deterministic in the
 * last message and the result index, so tests can compare texts.
 */
import { createHash } from "node:crypto";
import { RUNWARE_LIMITS, SIM_CONSTANTS } from "../limits.js";
import { booleanParam, firstProblem, numberParam, ruleParam, stringParam, type Problem } from "../validate.js";
import { isRecord, paramCode, wireError, type Item } from "../wire.js";
import type { TaskHandler } from "./types.js";

const L = RUNWARE_LIMITS.textInference;
const AIR_RE = /^[\w.-]+:[\w.-]+@[\w.-]+$/;

const OPENINGS = ["Certainly.", "Here is a thought.", "In short:", "Consider this:", "To answer plainly:", "Briefly:"];

function invalidMessages(why: string): Problem {
  return { ...wireError(paramCode("invalid", "messages")), message: `Invalid value for 'messages': ${why}.`, parameter: "messages" };
}

function messagesProblem(task: Item): Problem {
  const m = task["messages"];
  if (m === undefined || m === null) {
    return { ...wireError(paramCode("missing", "messages")), message: "Missing required parameter 'messages'.", parameter: "messages" };
  }
  if (!Array.isArray(m) || m.length === 0) return invalidMessages("must be a non-empty array of {role, content}");
  for (const [i, msg] of m.entries()) {
    if (!isRecord(msg) || !(L.roles as readonly unknown[]).includes(msg["role"]))
      return invalidMessages(`messages[${i}].role must be user or assistant`);
    const c = msg["content"];
    if (typeof c !== "string" || c.length < L.content.min || c.length > L.content.max) {
      return invalidMessages(`messages[${i}].content must be a string of ${L.content.min} to ${L.content.max} characters`);
    }
  }
  if ((m.at(-1) as Item)["role"] !== "user") return invalidMessages("the last message must be the user's");
  return undefined;
}

/** A rough token count (4 characters a token), for `usage`. */
const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

export const textInference: TaskHandler = {
  validate: (task) =>
    firstProblem(
      () => stringParam(task, "model", { min: 1 }, true),
      () => ruleParam(task, "model", (v) => typeof v === "string" && AIR_RE.test(v), "must be an AIR identifier such as openai:gpt@5-mini"),
      () => messagesProblem(task),
      () => numberParam(task, "numberResults", L.numberResults, { required: false, integer: true }),
      () => booleanParam(task, "includeCost"),
      () => booleanParam(task, "includeUsage"),
    ),

  plan: (task) => {
    const n = typeof task["numberResults"] === "number" ? task["numberResults"] : L.numberResults.default;
    const messages = task["messages"] as Item[];
    const question = String(messages.at(-1)!["content"]);
    const prompt = messages.map((m) => String(m["content"])).join("\n");
    const produce = (index: number): Item => {
      const digest = createHash("sha256").update(`${index}\0${question}`).digest();
      const text = `${OPENINGS[digest[0]! % OPENINGS.length]} You asked: ${question.trim().slice(0, 200)}`;
      const item: Item = { text, finishReason: "stop" };
      if (task["includeUsage"] === true) {
        const p = tokens(prompt);
        const c = tokens(text);
        item["usage"] = { promptTokens: p, completionTokens: c, totalTokens: p + c };
      }
      if (task["includeCost"] === true) item["cost"] = SIM_CONSTANTS.costPerText;
      return item;
    };
    return { cost: SIM_CONSTANTS.costPerText, items: Array.from({ length: n }, (_, i) => () => produce(i)) };
  },
};
