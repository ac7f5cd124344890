/**
 * Visiting every media input of a task (the list: task-kinds.ts MEDIA_INPUTS). Pure: the caller
 * decides what a value is and what to put in its place.
 */
import { MEDIA_INPUTS } from "./task-kinds.js";

/** Where a value sits, for messages: `referenceImages[1]`, `inputs.image`. */
export type MediaInputVisitor = (value: string, where: string) => string | undefined;

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function visit(node: Node, segments: readonly string[], where: string, fn: MediaInputVisitor): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  const many = head.endsWith("[]");
  const key = many ? head.slice(0, -2) : head;
  if (!Object.hasOwn(node, key)) return;
  const at = where === "" ? key : `${where}.${key}`;
  const value = node[key];
  const one = (v: unknown, place: string, put: (x: string) => void) => {
    if (rest.length > 0) {
      if (isNode(v)) visit(v, rest, place, fn);
    } else if (typeof v === "string") {
      const replaced = fn(v, place);
      if (replaced !== undefined) put(replaced);
    }
  };
  if (many) {
    if (!Array.isArray(value)) return;
    value.forEach((v, i) => one(v, `${at}[${i}]`, (x) => (value[i] = x)));
  } else one(value, at, (x) => (node[key] = x));
}

/** Calls `fn` for every media input string of `task`; a string it returns replaces the value in place. */
export function forEachMediaInput(task: Node, fn: MediaInputVisitor): void {
  for (const path of MEDIA_INPUTS) visit(task, path.split("."), "", fn);
}
