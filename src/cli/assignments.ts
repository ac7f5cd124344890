/**
 * `key=value` and `key:=json` on the command line (httpie's convention, which the official Go
 * CLI's `run <AIR> key=value` follows): `=` gives a string, `:=` parses the value as JSON. Dotted
 * keys nest (`inputs.seedImage=...`); a segment of digits indexes an array
 * (`inputs.referenceImages.0=...`). Pure: no I/O; every mistake is a UsageError naming the argument.
 */
import { UsageError } from "../errors.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Segment = string | number;

/** Keys that would reach an object's prototype rather than the task. */
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

export interface Assignment {
  readonly path: readonly Segment[];
  readonly value: Json;
}

export function parseAssignment(arg: string): Assignment {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new UsageError(`'${arg}': expected key=value (a string) or key:=json`);
  const json = arg[eq - 1] === ":";
  const key = arg.slice(0, json ? eq - 1 : eq);
  const raw = arg.slice(eq + 1);
  if (key === "") throw new UsageError(`'${arg}': the key is empty`);
  const path = key.split(".").map((seg): Segment => {
    if (seg === "") throw new UsageError(`'${arg}': empty segment in key '${key}'`);
    if (FORBIDDEN.has(seg)) throw new UsageError(`'${arg}': '${seg}' cannot be a key`);
    return /^\d+$/.test(seg) ? Number(seg) : seg;
  });
  if (typeof path[0] === "number") throw new UsageError(`'${arg}': a key cannot start with an array index`);
  if (!json) return { path, value: raw };
  try {
    return { path, value: JSON.parse(raw) as Json };
  } catch {
    throw new UsageError(`'${arg}': the value after ':=' is not JSON (quote strings: key:='"text"', or use key=text)`);
  }
}

function describe(path: readonly Segment[], upTo: number): string {
  return path.slice(0, upTo).join(".");
}

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Set `a.value` at `a.path` inside `target`, making objects and arrays on the way; `arg` names it in errors. */
function assign(target: { [k: string]: Json }, a: Assignment, arg: string): void {
  let node: { [k: string]: Json } | Json[] = target;
  for (let i = 0; i < a.path.length; i++) {
    const seg = a.path[i]!;
    const last = i === a.path.length - 1;
    const next = a.path[i + 1];
    if (Array.isArray(node)) {
      if (typeof seg !== "number") throw new UsageError(`'${arg}': ${describe(a.path, i)} is an array; '${seg}' is not an index`);
      if (seg > node.length)
        throw new UsageError(`'${arg}': index ${seg} of ${describe(a.path, i)} skips ${node.length}; give the indexes in order`);
    } else if (typeof seg === "number") {
      throw new UsageError(`'${arg}': ${describe(a.path, i)} is an object; '${seg}' is an array index`);
    }
    const container: Record<string | number, Json> = node as Record<string | number, Json>;
    if (last) {
      container[seg] = a.value;
      return;
    }
    let child = container[seg];
    if (child === undefined) {
      child = typeof next === "number" ? [] : {};
      container[seg] = child;
    } else if (!Array.isArray(child) && !isObject(child)) {
      throw new UsageError(`'${arg}': ${describe(a.path, i + 1)} is already set to ${JSON.stringify(child)}`);
    }
    node = child;
  }
}

/** The task: `base` (a copy; e.g. from --file) with each `key=value` / `key:=json` applied in order. */
export function applyAssignments(base: Readonly<Record<string, unknown>>, args: readonly string[]): Record<string, unknown> {
  const task = structuredClone(base) as { [k: string]: Json };
  for (const arg of args) assign(task, parseAssignment(arg), arg);
  return task;
}
