/**
 * Parameter checks that produce Runware-shaped errors: `missing<Param>` when a required parameter is
 * absent, `invalid<Param>` when it has the wrong type or range, always with `parameter` set
 * (docs/protocol.md §8: the exact strings are unknown; these follow the documented patterns).
 */
import { paramCode, wireError, type Item, type WireError } from "./wire.js";

export type Problem = WireError | undefined;

interface Range {
  readonly min: number;
  readonly max?: number;
}

function invalid(parameter: string, why: string): WireError {
  return { ...wireError(paramCode("invalid", parameter)), message: `Invalid value for '${parameter}': ${why}.`, parameter };
}

function missing(parameter: string): WireError {
  return { ...wireError(paramCode("missing", parameter)), message: `Missing required parameter '${parameter}'.`, parameter };
}

function rangeText(r: Range): string {
  return r.max === undefined ? `at least ${r.min}` : `between ${r.min} and ${r.max}`;
}

/** A string whose length is within `len`. */
export function stringParam(task: Item, parameter: string, len: Range, required: boolean): Problem {
  const v = task[parameter];
  if (v === undefined || v === null) return required ? missing(parameter) : undefined;
  if (typeof v !== "string") return invalid(parameter, "must be a string");
  if (required && v.length === 0) return missing(parameter);
  if (v.length < len.min || (len.max !== undefined && v.length > len.max)) {
    return invalid(parameter, `length must be ${rangeText(len)} characters`);
  }
  return undefined;
}

/** A number within `range`; `integer` also demands a whole number, `multipleOf` divisibility. */
export function numberParam(
  task: Item,
  parameter: string,
  range: Range & { readonly multipleOf?: number },
  opts: { required: boolean; integer: boolean },
): Problem {
  const v = task[parameter];
  if (v === undefined || v === null) return opts.required ? missing(parameter) : undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) return invalid(parameter, "must be a number");
  if (opts.integer && !Number.isInteger(v)) return invalid(parameter, "must be an integer");
  if (v < range.min || (range.max !== undefined && v > range.max)) return invalid(parameter, `must be ${rangeText(range)}`);
  if (range.multipleOf !== undefined && v % range.multipleOf !== 0) return invalid(parameter, `must be a multiple of ${range.multipleOf}`);
  return undefined;
}

/** One of `values`; `caseInsensitive` for enums the docs spell both ways. */
export function enumParam(task: Item, parameter: string, values: readonly string[], caseInsensitive = false): Problem {
  const v = task[parameter];
  if (v === undefined || v === null) return undefined;
  const norm = (s: string) => (caseInsensitive ? s.toUpperCase() : s);
  if (typeof v !== "string" || !values.some((x) => norm(x) === norm(v))) return invalid(parameter, `must be one of ${values.join(", ")}`);
  return undefined;
}

export function booleanParam(task: Item, parameter: string): Problem {
  const v = task[parameter];
  if (v === undefined || v === null || typeof v === "boolean") return undefined;
  return invalid(parameter, "must be a boolean");
}

/** An array of strings (e.g. modelSearch `tags`). */
export function stringArrayParam(task: Item, parameter: string): Problem {
  const v = task[parameter];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) return invalid(parameter, "must be an array of strings");
  return undefined;
}

/** A custom rule on a present value. */
export function ruleParam(task: Item, parameter: string, ok: (v: unknown) => boolean, why: string): Problem {
  const v = task[parameter];
  if (v === undefined || v === null) return undefined;
  return ok(v) ? undefined : invalid(parameter, why);
}

/** The first problem in order; Runware reports one error per task. */
export function firstProblem(...checks: Array<() => Problem>): Problem {
  for (const check of checks) {
    const p = check();
    if (p) return p;
  }
  return undefined;
}
