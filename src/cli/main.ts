#!/usr/bin/env node
/**
 * The `runware` command. Each verb lives in its own module and is loaded only when used, so a
 * one-shot client verb does not pay for the daemon's or the simulator's imports.
 */
const USAGE = `usage: runware <command> [options]

commands:
  daemon     run the daemon in the foreground (RUNWARE_API_KEY or --api-key-file)
  sim        run the bundled Runware simulator on loopback

Run 'runware <command> --help' for a command's options.
Exit codes: 0 ok, 1 errors present / could not start, 2 usage or configuration error.`;

type Verb = (argv: string[]) => Promise<number>;

const VERBS: Record<string, () => Promise<Verb>> = {
  daemon: async () => (await import("./daemon.js")).runDaemon,
  sim: async () => (await import("./sim.js")).runSim,
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
  return (await load())(rest);
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
