#!/usr/bin/env node
/**
 * The `runware` command. Each verb lives in its own module and is loaded only when used, so a
 * one-shot client verb does not pay for the daemon's or the simulator's imports. errors.ts has no
 * imports, so matching errors costs nothing at start-up.
 */
import { NoDaemonError, UsageError } from "../errors.js";

const USAGE = `usage: runware <command> [options]

commands:
  text-to-image  generate images from a prompt (--prompt TEXT; --out DIR saves them)
  video          generate a video from a prompt (--prompt TEXT; the daemon polls it)
  audio          generate audio from a prompt (--prompt TEXT)
  model-search   search Runware's model catalogue (--search TEXT)
  run TYPE k=v   any task from the command line (key=value, key:=json; --file base)
  upload FILE    upload an image (or video, audio) once; prints the UUID to reuse
  account        the account's balance and usage
  raw FILE|-     run a JSON array of tasks exactly as Runware takes it
  poll UUID      getResponse with backoff until the task is final
  batch FILE     one prompt (or JSON task) per line, resumable, with progress
  history        what this machine ran and what it cost (--show UUID: one in full)
  status         the daemon's status (exit 3 when none answers)
  events         what the daemon does, live: tasks, upstream, budget (Ctrl-C ends it)
  start | stop   run the daemon in the background / stop it
  daemon         run the daemon in the foreground (RUNWARE_API_KEY or --api-key-file)
  sim            run the bundled Runware simulator on loopback
  demo           simulator + daemon + a batch, end to end, no key and no network

Run 'runware <command> --help' for a command's options.
Client verbs print Runware's full JSON on stdout and human messages on stderr. They start a
daemon in the background when none answers and RUNWARE_API_KEY is set (--no-autostart: never).
Exit codes: 0 ok; 1 the answer has errors (or the daemon could not start); 2 usage or
configuration error; 3 no daemon could be reached.`;

type Verb = (argv: string[]) => Promise<number>;

const VERBS: Record<string, () => Promise<Verb>> = {
  daemon: async () => (await import("./daemon.js")).runDaemon,
  sim: async () => (await import("./sim.js")).runSim,
  demo: async () => (await import("./demo.js")).demo,
  status: async () => (await import("./status.js")).status,
  events: async () => (await import("./events.js")).events,
  start: async () => (await import("./lifecycle.js")).start,
  stop: async () => (await import("./lifecycle.js")).stop,
  "model-search": async () => (await import("./verbs.js")).modelSearch,
  "text-to-image": async () => (await import("./verbs.js")).textToImage,
  raw: async () => (await import("./verbs.js")).raw,
  run: async () => (await import("./run.js")).run,
  video: async () => (await import("./shortcuts.js")).video,
  upload: async () => (await import("./upload.js")).upload,
  account: async () => (await import("./account.js")).account,
  audio: async () => (await import("./shortcuts.js")).audio,
  poll: async () => (await import("./poll.js")).poll,
  batch: async () => (await import("./batch.js")).batch,
  history: async () => (await import("./history.js")).history,
};

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === "--help" || verb === "-h" || verb === "help") {
    process.stdout.write(`${USAGE}\n`);
    return verb ? 0 : 2;
  }
  const load = VERBS[verb];
  if (!load) {
    process.stderr.write(`runware: unknown command '${verb}'\n${USAGE}\n`);
    return 2;
  }
  // Who asked, for the daemon's history and spend (client/label.ts): the verb, unless the caller named itself.
  if (!process.env["RUNWARE_LABEL"]?.trim()) process.env["RUNWARE_LABEL"] = `runware ${verb}`;
  try {
    return await (
      await load()
    )(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`runware ${verb}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof NoDaemonError) return 3; // already explained on stderr
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`runware: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
