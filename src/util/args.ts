/**
 * The one argument parser of every verb and of the daemon: `node:util` parseArgs, strict, both
 * `--flag value` and `--flag=value`. A bad argument is a `UsageError` (exit 2). This module imports
 * only node:util and errors.ts, so the CLI can load it at start-up for free.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.js";

export type FlagSpecs = NonNullable<ParseArgsConfig["options"]>;
export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Parsed {
  values: FlagValues;
  positionals: string[];
}

export function parseFlags(argv: readonly string[], options: FlagSpecs, opts: { positionals?: boolean } = {}): Parsed {
  try {
    const r = parseArgs({ args: [...argv], options, strict: true, allowPositionals: opts.positionals ?? false });
    return { values: r.values as FlagValues, positionals: r.positionals };
  } catch (err) {
    // parseArgs names the flag and never echoes a value, so a mistyped secret cannot leak here.
    throw new UsageError((err as Error).message.split("\n")[0] ?? "bad arguments");
  }
}
