/**
 * `--validate` on `run`, `raw` and `batch` (issue 14): every task's envelope checked as the daemon
 * would check it (src/local/validate.ts, docs/local-api.md §2.3) and its local file inputs checked
 * to exist (client/local-files.ts), every problem listed with its index or line, nothing sent and
 * no daemon needed. (The size of a local file against the daemon's body limit needs the daemon: it
 * is checked when the tasks are sent.) `batch --validate` reads its file here too.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { absolutizeLocalPaths, LocalFileError, readLocalFiles } from "../client/local-files.js";
import { isRefusal, validateBatch } from "../local/validate.js";
import { compact, EXIT, say } from "./args.js";

/** The daemon's default nesting limit (settings maxJsonDepth): deeper tasks are refused there. */
const MAX_JSON_DEPTH = 64;

/** Every problem of `tasks` (each labelled by `labelOf(i)`), empty when all are fine. */
export async function problemsOf(tasks: readonly unknown[], labelOf: (i: number) => string): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const [i, task] of tasks.entries()) {
    const label = labelOf(i);
    const checked = validateBatch([task], () => false, MAX_JSON_DEPTH);
    if (isRefusal(checked)) {
      problems.push(`${label}: ${checked.error.message.replace(/^task 0:? ?/, "")} (${checked.error.code})`);
      continue;
    }
    const uuid = (task as Record<string, unknown>)["taskUUID"];
    if (typeof uuid === "string" && checked[0]?.taskType !== "getResponse") {
      const first = seen.get(uuid);
      if (first !== undefined) problems.push(`${label}: taskUUID ${uuid} repeats ${labelOf(first)}'s (conflictTaskUUID)`);
      else seen.set(uuid, i);
    }
    try {
      await readLocalFiles(task as Record<string, unknown>, { label, checkOnly: true });
    } catch (err) {
      if (!(err instanceof LocalFileError)) throw err;
      problems.push(...err.problems);
    }
  }
  return problems;
}

/** Print the verdict: exit 0 with "ok" when every task is fine, else 2 with every problem on stderr. */
export async function validateOnly(tasks: readonly unknown[], labelOf: (i: number) => string): Promise<number> {
  const problems = await problemsOf(tasks, labelOf);
  for (const p of problems) say(p);
  say(problems.length === 0 ? `ok: ${tasks.length} task(s), nothing sent` : `${problems.length} problem(s); nothing sent`);
  return problems.length === 0 ? 0 : 2;
}

/** `--validate`: every line checked, every problem listed with its line; nothing sent, no state written. */
export async function validateLines(file: string, defaults: Record<string, unknown>): Promise<number> {
  const base = dirname(resolve(file));
  const tasks: unknown[] = [];
  const nos: number[] = [];
  const problems: string[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((text, i) => {
      const trimmed = text.trim();
      if (!trimmed || trimmed.startsWith("#")) return;
      if (!trimmed.startsWith("{")) {
        tasks.push({ taskType: "imageInference", positivePrompt: trimmed, ...compact(defaults) });
      } else {
        try {
          const task: unknown = JSON.parse(trimmed);
          const own = typeof task === "object" && task !== null && !Array.isArray(task);
          tasks.push(own ? absolutizeLocalPaths(task as Record<string, unknown>, base) : task);
        } catch {
          problems.push(`${file}:${i + 1}: not valid JSON`);
          return;
        }
      }
      nos.push(i + 1);
    });
  problems.push(...(await problemsOf(tasks, (j) => `${file}:${nos[j] ?? "?"}`)));
  for (const p of problems) say(p);
  say(problems.length === 0 ? `ok: ${tasks.length} line(s), nothing sent` : `${problems.length} problem(s); nothing sent`);
  return problems.length === 0 ? EXIT.ok : EXIT.usage;
}
