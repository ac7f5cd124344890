/**
 * `runware status`: the daemon's status as JSON. It never starts a daemon. Kept apart from
 * start/stop, whose pid-file and process handling it does not need: it is the verb the start-up
 * benchmark times.
 */
import { connect, DaemonUnreachableError } from "../client/index.js";
import { defaultSocketPath } from "../paths.js";
import { EXIT, parseClient, printJson, say, str, usage } from "./args.js";

const STATUS_USAGE = `usage: runware status [--socket PATH]
  Prints the daemon's status as JSON. Exit 3 when no daemon answers (it never starts one).`;

export async function status(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, {});
  if (values["help"]) return usage(STATUS_USAGE);
  const socket = str(values, "socket") ?? defaultSocketPath();
  try {
    printJson(await connect({ socket }).status());
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
    say(`runware: no daemon on ${socket}`);
    return EXIT.unreachable;
  }
}
