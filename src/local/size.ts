/**
 * What a JSON value weighs, estimated without encoding it: string lengths plus a few bytes of
 * syntax per value. Walked with an explicit stack, so no nesting depth can overflow it, and cheap on
 * Runware results (a base64 image is one long string: its length is read, not copied). This is what
 * the byte budgets of the result store and of local clients count.
 */
import type { TaskOutcome } from "../upstream/task.js";

export function jsonBytes(value: unknown): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") bytes += v.length + 3;
    else if (Array.isArray(v)) {
      bytes += 2 + v.length;
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === "object") {
      bytes += 2;
      // Parsed JSON objects have only own enumerable keys; for-in allocates no entry arrays.
      for (const k in v) {
        bytes += k.length + 4;
        stack.push((v as Record<string, unknown>)[k]);
      }
    } else bytes += 8; // a number, a boolean, null
  }
  return bytes;
}

const measured = new WeakMap<TaskOutcome, number>();

/** An outcome's results and errors, measured once however many budgets ask. */
export function outcomeBytes(o: TaskOutcome): number {
  let n = measured.get(o);
  if (n === undefined) {
    n = jsonBytes(o.data) + jsonBytes(o.errors);
    measured.set(o, n);
  }
  return n;
}
