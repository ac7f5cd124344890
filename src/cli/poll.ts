/**
 * `runware poll TASK_UUID`: `getResponse` with backoff until the task is final (docs/protocol.md
 * §4.2), with its progress line (progress.ts) and `--out`. Prints the final answer.
 */
import { UsageError } from "../errors.js";
import { isPendingStatus } from "../protocol/statuses.js";
import {
  CLIENT_USAGE,
  EXIT,
  exitFor,
  flagsOf,
  int,
  parseClient,
  printJson,
  RESULT_OPTIONS,
  RESULT_USAGE,
  say,
  str,
  usage,
} from "./args.js";
import { CLIENT_DEFAULTS as D } from "./defaults.js";
import { Board, boardMode, renderTaskLine, type TaskLine } from "./progress.js";
import { withDaemon } from "./reach.js";

const POLL_USAGE = `usage: runware poll TASK_UUID [--interval-ms N] [--timeout-ms N]
  Asks getResponse until the task is final, backing off x${D.pollBackoff} from --interval-ms (default ${D.pollIntervalMs})
  up to ${D.pollMaxIntervalMs / 1000} s, for at most --timeout-ms (default ${D.pollTimeoutMs}). Prints the final answer.
${RESULT_USAGE}
${CLIENT_USAGE}`;

export async function poll(argv: string[]): Promise<number> {
  const { values, positionals } = parseClient(
    argv,
    { ...RESULT_OPTIONS, "interval-ms": { type: "string" }, "timeout-ms": { type: "string" } },
    true,
  );
  if (values["help"]) return usage(POLL_USAGE);
  const uuid = positionals[0];
  if (!uuid || positionals.length > 1) throw new UsageError("poll takes exactly one TASK_UUID");
  let delay = int(values, "interval-ms", 1) ?? D.pollIntervalMs;
  const deadline = Date.now() + (int(values, "timeout-ms", 1) ?? D.pollTimeoutMs);
  const line: TaskLine = { taskType: "getResponse", startedAt: Date.now(), results: 0, state: "running" };
  const board = new Board(process.stderr, boardMode(process.stderr, values["progress"] === true), (now) => [
    [uuid, renderTaskLine(line, now)],
  ]);
  try {
    for (;;) {
      const env = await withDaemon(flagsOf(values), (client) => client.run([{ taskType: "getResponse", taskUUID: uuid }]));
      const running = env.data.some((d) => isPendingStatus(d["status"]));
      const first = env.data[0];
      line.taskType = typeof first?.taskType === "string" ? first.taskType : line.taskType;
      const progress = env.data.find((d) => typeof d["progress"] === "number")?.["progress"];
      if (typeof progress === "number") line.progress = progress;
      if (!running) {
        line.state = env.errors?.length ? "failed" : "done";
        line.endedAt = Date.now();
      }
      board.draw();
      if (!running || Date.now() + delay > deadline) {
        const out = str(values, "out");
        const saved = out && !running ? await (await import("./save.js")).saveAll(env, out) : undefined;
        printJson(saved?.env ?? env);
        if (saved?.failed) return EXIT.errors;
        if (running) say(`runware: task ${uuid} still running after --timeout-ms`);
        return running ? EXIT.errors : exitFor(env);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(D.pollMaxIntervalMs, Math.round(delay * D.pollBackoff));
    }
  } finally {
    board.close();
  }
}
