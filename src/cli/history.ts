/**
 * `runware history`: what this machine ran through the daemon and what it cost (issue 16;
 * docs/local-api.md §2.10). A table on a terminal, else the page as JSON; `--show UUID` one entry
 * in full. Like `status` it never starts a daemon: with none there is no history to read.
 */
import {
  connect,
  DaemonUnreachableError,
  RequestRefusedError,
  type HistoryQuery,
  type HistorySummary,
  type RunwareClient,
} from "../client/index.js";
import { UsageError } from "../errors.js";
import { defaultSocketPath } from "../paths.js";
import type { FlagValues } from "../util/args.js";
import { EXIT, int, parseClient, printJson, say, str, usage } from "./args.js";
import { historyTable } from "./history-table.js";
import { durationAgo } from "../util/duration.js";
import { rerunInput } from "./history-input.js";

const HISTORY_USAGE = `usage: runware history [--since D] [--until D] [--label TEXT] [--type TASKTYPE] [--limit N] [--cursor C] [--all] [--json]
       runware history --show UUID [--input]
  Lists the tasks this machine ran through the daemon, newest first, with their cost: a table on a
  terminal (the next page's command on stderr), else the page as JSON ({entries, nextCursor}).
  Exit 3 when no daemon answers (it never starts one).
  --since D, --until D   from / up to D: ISO 8601 (2025-06-01, 2025-06-01T12:00:00Z) or a
                         duration ago (90m, 24h, 7d)
  --label TEXT           only the tasks of this caller ('runware run', a script's name, RUNWARE_LABEL)
  --type TASKTYPE        only this task type (imageInference, videoInference, ...)
  --limit N              entries per page, 1 to 1000 (default 50; with --all, 1000)
  --cursor C             the next (older) page, as printed after 'next page:'
  --all                  every page to the end (JSON: {entries})
  --json                 JSON even on a terminal
  --show UUID            one task in full as JSON: the task as sent, its results, errors, cost; exit 1 if unknown
  --input                with --show: only the task, ready to run again (no taskUUID, the seed it
                         ran with): runware history --show UUID --input > t.json; runware run TYPE --file t.json
  --socket PATH          the daemon's socket (default: RUNWARE_SOCKET, $XDG_RUNTIME_DIR/runware/daemon.sock, /tmp/runware-<uid>/daemon.sock)`;

const OPTIONS = {
  since: { type: "string" },
  until: { type: "string" },
  type: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  all: { type: "boolean" },
  json: { type: "boolean" },
  show: { type: "string" },
  input: { type: "boolean" },
} as const;

/** The flags that choose which entries are listed, as the daemon's query. */
function queryOf(values: FlagValues): HistoryQuery {
  const query: HistoryQuery = {};
  const set = (key: "since" | "until" | "label" | "taskType" | "cursor", flag: string) => {
    const v = str(values, flag);
    if (v !== undefined) query[key] = v;
  };
  set("since", "since");
  set("until", "until");
  // A duration ago is made a time once: pages read later (--all, the next-page command) keep the same bounds.
  for (const key of ["since", "until"] as const) {
    const ago = query[key] === undefined ? undefined : durationAgo(query[key]);
    if (ago !== undefined) query[key] = new Date(Date.now() - ago).toISOString();
  }
  set("label", "label");
  set("taskType", "type");
  set("cursor", "cursor");
  const limit = int(values, "limit", 1, 1000);
  if (limit !== undefined) query.limit = limit;
  return query;
}

/** A flag for the shell, quoted when it has to be (for the printed next-page command). */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `runware history <the same filters> --cursor C`: the command for the next page. */
function nextPageCommand(query: HistoryQuery, cursor: string): string {
  const flags: Array<[string, string | number | undefined]> = [
    ["since", query.since],
    ["until", query.until],
    ["label", query.label],
    ["type", query.taskType],
    ["limit", query.limit],
    ["cursor", cursor],
  ];
  const words = flags.filter(([, v]) => v !== undefined).flatMap(([f, v]) => [`--${f}`, shellWord(String(v))]);
  return `runware history ${words.join(" ")}`;
}

/** Every page from the query's cursor on, following nextCursor; a cursor the daemon hands back twice ends it. */
async function allPages(client: RunwareClient, query: HistoryQuery): Promise<HistorySummary[]> {
  const entries: HistorySummary[] = [];
  const seen = new Set<string>();
  let q: HistoryQuery = { limit: 1000, ...query };
  for (;;) {
    const page = await client.history(q);
    entries.push(...page.entries);
    if (page.nextCursor === undefined || page.entries.length === 0) return entries;
    if (seen.has(page.nextCursor)) throw new Error(`the daemon handed back the cursor ${page.nextCursor} twice`);
    seen.add(page.nextCursor);
    q = { ...q, cursor: page.nextCursor };
  }
}

async function list(client: RunwareClient, values: FlagValues): Promise<number> {
  const query = queryOf(values);
  const table = process.stdout.isTTY && values["json"] !== true;
  const write = (entries: readonly HistorySummary[]) => process.stdout.write(historyTable(entries, process.stdout.columns || 120));
  if (values["all"]) {
    const entries = await allPages(client, query);
    if (table) write(entries);
    else printJson({ entries });
    return EXIT.ok;
  }
  const page = await client.history(query);
  if (!table) {
    printJson(page);
    return EXIT.ok;
  }
  write(page.entries);
  if (page.nextCursor !== undefined) say(`next page: ${nextPageCommand(query, page.nextCursor)}`);
  return EXIT.ok;
}

async function showOne(client: RunwareClient, uuid: string, values: FlagValues): Promise<number> {
  const entry = await client.historyEntry(uuid);
  if (!entry) {
    say(`runware history: no task ${uuid} in the daemon's history`);
    return EXIT.errors;
  }
  if (!values["input"]) {
    printJson(entry);
    if (process.stderr.isTTY)
      say(
        `re-run: runware history --show ${shellWord(uuid)} --input > task.json; runware run ${shellWord(entry.taskType)} --file task.json`,
      );
    return EXIT.ok;
  }
  const input = rerunInput(entry);
  if (!input) {
    say(`runware history: the daemon no longer has task ${uuid} as it was sent (it was taken up again after a restart)`);
    return EXIT.errors;
  }
  printJson(input);
  // The history keeps media as a note of its length (docs/local-api.md §2.10): such a task cannot run as it was.
  if (JSON.stringify(input).includes('"[omitted: ')) {
    say(
      "runware history: this task had media or long text the history does not keep ([omitted: N characters]); put them back before running it",
    );
  }
  return EXIT.ok;
}

/** The daemon's refusal of a query, naming the flag (its `parameter` is the query's field). */
function refusalText(err: RequestRefusedError): string {
  const parameter = err.errors[0]?.parameter;
  const flag = parameter === "taskType" ? "type" : parameter;
  if (typeof parameter !== "string" || typeof flag !== "string" || !(flag in OPTIONS || flag === "label")) return err.message;
  // "since must be ..." reads "--since must be ...".
  return err.message.startsWith(`${parameter} `) ? `--${flag}${err.message.slice(parameter.length)}` : `--${flag}: ${err.message}`;
}

/** --show picks one entry; the list flags would be silently ignored with it, so they are refused. */
function checkFlags(values: FlagValues): void {
  const show = str(values, "show");
  if (values["input"] && show === undefined) throw new UsageError("--input goes with --show UUID");
  if (show === undefined) return;
  if (show.trim() === "") throw new UsageError("--show needs a taskUUID");
  const listFlags = ["since", "until", "label", "type", "limit", "cursor", "all"].filter((f) => values[f] !== undefined);
  if (listFlags.length > 0) throw new UsageError(`--show UUID takes none of --${listFlags.join(", --")}`);
}

export async function history(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, OPTIONS);
  if (values["help"]) return usage(HISTORY_USAGE);
  checkFlags(values);
  const socket = str(values, "socket") ?? defaultSocketPath();
  const client = connect({ socket });
  const show = str(values, "show");
  try {
    return show === undefined ? await list(client, values) : await showOne(client, show, values);
  } catch (err) {
    if (err instanceof DaemonUnreachableError) {
      say(`runware: no daemon on ${socket} (history never starts one: 'runware start' does)`);
      return EXIT.unreachable;
    }
    // The daemon checks the query (since, until, limit...): its refusal is the user's usage error.
    if (err instanceof RequestRefusedError && err.status === 400) throw new UsageError(refusalText(err));
    if (err instanceof RequestRefusedError && err.code === "notFound") {
      say(`runware history: the daemon on ${socket} has no history (an older version: restart it)`);
      return EXIT.errors;
    }
    throw err;
  }
}
