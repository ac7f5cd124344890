/**
 * The everyday verbs of the old one-file helper, now through the daemon: `model-search`,
 * `text-to-image`, `raw`, `poll`. Each prints Runware's full JSON answer on stdout and exits 1 when
 * it carries `errors` (the helper's contract); retries of transient failures are the daemon's job.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { absolutizeLocalPaths } from "../client/local-files.js";
import type { TaskInput } from "../client/index.js";
import { UsageError } from "../errors.js";
import {
  CLIENT_USAGE,
  compact,
  EXIT,
  exitFor,
  flagsOf,
  int,
  num,
  parseClient,
  RESULT_OPTIONS,
  RESULT_USAGE,
  printJson,
  str,
  usage,
  type ClientFlags,
} from "./args.js";
import { CLIENT_DEFAULTS as D } from "./defaults.js";
import { localInputs } from "./local-inputs.js";
import { boardMode } from "./progress.js";
import { withDaemon } from "./reach.js";

/** Run `tasks`, save their outputs with `--out`, print the answer (naming the saved files); the exit code. */
export async function runAndPrint(flags: ClientFlags, tasks: TaskInput[]): Promise<number> {
  const env = await withDaemon(flags, async (client) => {
    const read = await localInputs(client, tasks);
    const mode = boardMode(process.stderr, flags.progress === true);
    if (mode === "off") return client.run(read);
    const { TaskBoard } = await import("./task-board.js");
    // The board follows tasks by UUID: give each one now (the daemon would otherwise).
    const named = read.map((t) => ({ ...t, taskUUID: t.taskUUID ?? randomUUID() }));
    const board = new TaskBoard(named, process.stderr, mode);
    try {
      return await client.run(named, board.hooks());
    } finally {
      board.close();
    }
  });
  if (!flags.out) {
    printJson(env);
    return exitFor(env);
  }
  const { saveAll } = await import("./save.js"); // only with --out: spares every other run the import
  const saved = await saveAll(env, flags.out);
  printJson(saved.env);
  return saved.failed ? EXIT.errors : exitFor(env);
}

// --- model-search -------------------------------------------------------------------------------

const MODEL_SEARCH_USAGE = `usage: runware model-search [--search TEXT] [options]
  --search TEXT        free text over name, AIR, version and tags
  --limit N            1-100 (default 20)       --offset N    (default 0)
  --category C         checkpoint | lora | lycoris | controlnet | vae | embeddings
  --architecture A     e.g. flux1d, sdxl, sd1x  --type T      base | inpainting | refiner
  --tags A,B           any of these tags        --visibility V  public | private | all
${CLIENT_USAGE}`;

export async function modelSearch(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, {
    search: { type: "string" },
    limit: { type: "string" },
    offset: { type: "string" },
    category: { type: "string" },
    architecture: { type: "string" },
    type: { type: "string" },
    tags: { type: "string" },
    visibility: { type: "string" },
  });
  if (values["help"]) return usage(MODEL_SEARCH_USAGE);
  const task = compact({
    taskType: "modelSearch",
    search: str(values, "search"),
    limit: int(values, "limit", 1, 100),
    offset: int(values, "offset", 0),
    category: str(values, "category"),
    architecture: str(values, "architecture"),
    type: str(values, "type"),
    tags: str(values, "tags")
      ?.split(",")
      .map((t) => t.trim())
      .filter(Boolean),
    visibility: str(values, "visibility"),
  });
  return runAndPrint(flagsOf(values), [task as TaskInput]);
}

// --- text-to-image ------------------------------------------------------------------------------

const TEXT_TO_IMAGE_USAGE = `usage: runware text-to-image --prompt TEXT [options]
  --prompt TEXT        what to draw (required)
  --negative TEXT      what to avoid
  --model AIR          default ${D.model}
  --width N --height N 128-2048, multiples of 64 (default ${D.width} x ${D.height})
  --steps N            1-100                    --cfg X       CFG scale
  --seed N             fixed seed (each further image uses seed+1)
  --n N                number of images, 1-20 (default ${D.numberResults})
  --format F           JPG | PNG | WEBP         --output-type T  URL | base64Data | dataURI
  --include-cost       ask for the cost         --async       deliveryMethod async (the daemon polls)
${RESULT_USAGE}
${CLIENT_USAGE}`;

export async function textToImage(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, {
    ...RESULT_OPTIONS,
    prompt: { type: "string" },
    negative: { type: "string" },
    model: { type: "string" },
    width: { type: "string" },
    height: { type: "string" },
    steps: { type: "string" },
    cfg: { type: "string" },
    seed: { type: "string" },
    n: { type: "string" },
    format: { type: "string" },
    "output-type": { type: "string" },
    "include-cost": { type: "boolean" },
    async: { type: "boolean" },
  });
  if (values["help"]) return usage(TEXT_TO_IMAGE_USAGE);
  const prompt = str(values, "prompt");
  if (!prompt) throw new UsageError("--prompt is required");
  const task = compact({
    taskType: "imageInference",
    model: str(values, "model") ?? D.model,
    positivePrompt: prompt,
    negativePrompt: str(values, "negative"),
    width: int(values, "width", 1) ?? D.width,
    height: int(values, "height", 1) ?? D.height,
    steps: int(values, "steps", 1),
    CFGScale: num(values, "cfg"),
    seed: int(values, "seed", 0),
    numberResults: int(values, "n", 1) ?? D.numberResults,
    outputFormat: str(values, "format")?.toUpperCase(),
    outputType: str(values, "output-type"),
    includeCost: values["include-cost"] ? true : undefined,
    deliveryMethod: values["async"] ? "async" : undefined,
  });
  return runAndPrint(flagsOf(values), [task as TaskInput]);
}

function isTask(t: unknown): t is Record<string, unknown> {
  return typeof t === "object" && t !== null && !Array.isArray(t);
}

// --- raw ----------------------------------------------------------------------------------------

const RAW_USAGE = `usage: runware raw FILE|-
  FILE holds a JSON array of tasks exactly as Runware takes it ('-' reads stdin).
  --validate           check every task and its local files, print every problem, send nothing (exit 2 if any)
${RESULT_USAGE}
${CLIENT_USAGE}`;

export async function raw(argv: string[]): Promise<number> {
  const { values, positionals } = parseClient(argv, { ...RESULT_OPTIONS, validate: { type: "boolean" } }, true);
  if (values["help"]) return usage(RAW_USAGE);
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("raw takes exactly one FILE (or - for stdin)");
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${file}: ${e.code ?? e.message}`);
  }
  let tasks: unknown;
  try {
    tasks = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`);
  }
  if (!Array.isArray(tasks)) throw new UsageError(`${file} must hold a JSON array of tasks`);
  // Paths in the file are the file's: relative to its directory (stdin: the working directory).
  const base = file === "-" ? undefined : dirname(resolve(file));
  const own = base ? tasks.map((t: unknown) => (isTask(t) ? absolutizeLocalPaths(t, base) : t)) : tasks;
  if (values["validate"]) return (await import("./validate-tasks.js")).validateOnly(own, (i) => `task ${i}`);
  return runAndPrint(flagsOf(values), own as TaskInput[]);
}
