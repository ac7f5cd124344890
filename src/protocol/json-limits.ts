/**
 * How deep a parsed JSON value nests. `JSON.parse` takes any depth, but `JSON.stringify` (and any
 * recursive walk) overflows the stack a few thousand levels down: a 12 KB body nested 6,000 arrays
 * deep passes the parser and throws later, wherever it is encoded. So depth is checked where JSON
 * enters the daemon, and nothing deeper than the limit travels on.
 */

/**
 * The default limit. Runware's tasks and results nest a few levels (`inputs.referenceImages[0]`,
 * `lora[]`, `outputFormat`; docs/protocol.md §3, §8): 64 leaves them ample room and stays far
 * below the ~2,000 levels at which a stringify of a small object can already fail on a deep stack.
 */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * Whether `value` nests deeper than `maxDepth` levels: a scalar is depth 0, `[]`, `{}` and `[1]`
 * are depth 1, `{"a":[1]}` is depth 2. Iterative (a stack of containers, never recursion) and it
 * stops at the first container past the limit; strings and numbers cost nothing but their slot.
 */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== "object") return false;
  if (maxDepth < 1) return true;
  // Two parallel stacks (no tuple per container) of the containers still to visit and their
  // depths, made only when a container holds another: a flat result item allocates nothing.
  let stack: object[] | undefined;
  let depths: number[] | undefined;
  let v: object = value;
  let d = 1;
  for (;;) {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const child: unknown = v[i];
        if (child === null || typeof child !== "object") continue;
        if (d >= maxDepth) return true;
        (stack ??= []).push(child);
        (depths ??= []).push(d + 1);
      }
    } else {
      // Parsed JSON objects have only own enumerable properties (`__proto__` included, as an own key).
      for (const k in v) {
        const child: unknown = (v as Record<string, unknown>)[k];
        if (child === null || typeof child !== "object") continue;
        if (d >= maxDepth) return true;
        (stack ??= []).push(child);
        (depths ??= []).push(d + 1);
      }
    }
    if (stack === undefined || stack.length === 0) return false;
    v = stack.pop() as object;
    d = (depths as number[]).pop() as number;
  }
}
