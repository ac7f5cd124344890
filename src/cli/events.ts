/**
 * `runware events`: the daemon's live event stream (docs/local-api.md §7.3). One readable line per
 * event on a terminal, the NDJSON lines otherwise (or with --json). It never starts a daemon; it
 * ends when the daemon ends the stream (exit 0), or with Ctrl-C. A reader the daemon dropped for
 * falling behind exits 1.
 */
import { connect, DaemonUnreachableError } from "../client/index.js";
import { defaultSocketPath } from "../paths.js";
import { EXIT, parseClient, say, str, usage } from "./args.js";
import { eventLine } from "./event-line.js";

const EVENTS_USAGE = `usage: runware events [--json] [--socket PATH]
  Prints what the daemon does as it happens: tasks accepted, sent, progress, done, failed, in
  doubt (type, short UUID, label, time, cost), upstream state changes and budget warnings.
  A readable line per event on a terminal, NDJSON otherwise (--json: always). Never starts a
  daemon (exit 3 when none answers); Ctrl-C ends it.`;

export async function events(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, { json: { type: "boolean" } });
  if (values["help"]) return usage(EVENTS_USAGE);
  const socket = str(values, "socket") ?? defaultSocketPath();
  const readable = process.stdout.isTTY && !values["json"];
  process.once("SIGINT", () => process.exit(EXIT.ok));
  try {
    for await (const ev of connect({ socket }).events()) {
      process.stdout.write(`${readable ? eventLine(ev) : JSON.stringify(ev)}\n`);
      if (ev.type === "dropped") return EXIT.errors;
    }
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
    say(`runware: no daemon on ${socket}`);
    return EXIT.unreachable;
  }
}
