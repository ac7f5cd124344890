/**
 * `runware run TASKTYPE key=value key:=json ...`: any Runware task from the command line, as the
 * official Go CLI's `run` (issue 14). The task type is the first argument (never guessed from a
 * model name); `--file task.json` gives a base task the assignments change (assignments.ts).
 * Prints Runware's full JSON; exit codes as every client verb (README "Exit codes").
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { absolutizeLocalPaths } from "../client/local-files.js";
import type { TaskInput } from "../client/index.js";
import { UsageError } from "../errors.js";
import { CLIENT_USAGE, flagsOf, RESULT_OPTIONS, RESULT_USAGE, parseClient, str, usage } from "./args.js";
import { applyAssignments } from "./assignments.js";
import { runAndPrint } from "./verbs.js";

const RUN_USAGE = `usage: runware run TASKTYPE [key=value | key:=json ...] [--file TASK.json]
  Runs one task of any type. key=value sets a string, key:=json a JSON value (numbers, true,
  arrays, objects); dotted keys nest and digits index arrays:
    runware run imageInference model=runware:101@1 positivePrompt="a fox" width:=512 height:=512 numberResults:=2
    runware run videoInference model=klingai:5@3 positivePrompt=waves duration:=5 width:=1280 height:=720
    runware run imageInference --file base.json seed:=42 inputs.referenceImages.0=https://example.com/a.png
  --file F             a JSON object (one task) the key=value arguments change
  --validate           check the task and its local files, print every problem, send nothing (exit 2 if any)
${RESULT_USAGE}
${CLIENT_USAGE}`;

function readBase(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${file}: ${e.code ?? e.message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new UsageError(`${file} must hold one JSON object (a task)`);
  return value as Record<string, unknown>;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseClient(argv, { ...RESULT_OPTIONS, file: { type: "string" }, validate: { type: "boolean" } }, true);
  if (values["help"]) return usage(RUN_USAGE);
  const [taskType, ...assignments] = positionals;
  if (!taskType || taskType.includes("="))
    throw new UsageError("run takes the task type first (e.g. runware run imageInference key=value ...)");
  const file = str(values, "file");
  // Paths in the file are relative to its directory; those in key=value to the working directory.
  const base = file ? (file === "-" ? readBase(file) : absolutizeLocalPaths(readBase(file), dirname(resolve(file)))) : {};
  if (base["taskType"] !== undefined && base["taskType"] !== taskType) {
    throw new UsageError(`${file} is a ${JSON.stringify(base["taskType"])} task, not ${taskType}`);
  }
  const task = applyAssignments({ ...base, taskType }, assignments);
  if (task["taskType"] !== taskType) throw new UsageError("taskType is the first argument; do not set it with key=value");
  if (values["validate"]) return (await import("./validate-tasks.js")).validateOnly([task], () => "task");
  return runAndPrint(flagsOf(values), [task as TaskInput]);
}
