/**
 * What every client verb shares, and nothing heavy: exit codes, argument parsing, output (full
 * JSON on stdout, human words on stderr). Client verbs must start about as fast as bare Node, so
 * this module imports only node:util.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Envelope } from "../client/index.js";

export const EXIT = {
  ok: 0,
  /** The answer carried `errors`. */
  errors: 1,
  /** Usage or configuration error. */
  usage: 2,
  /** No daemon could be reached (and none could be started). */
  unreachable: 3,
} as const;

export class UsageError extends Error {
  override name = "UsageError";
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function say(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Exit code for a Runware envelope: 1 when `errors` is present (the old helper's contract). */
export function exitFor(env: Envelope): number {
  return env.errors && env.errors.length > 0 ? EXIT.errors : EXIT.ok;
}

export interface ClientFlags {
  socket?: string | undefined;
  noAutostart?: boolean | undefined;
}

/** Flags every client verb takes (node:util parseArgs option specs). */
export const CLIENT_OPTIONS = {
  socket: { type: "string" },
  "no-autostart": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export const CLIENT_USAGE = `  --socket PATH      the daemon's socket (default: RUNWARE_SOCKET, $XDG_RUNTIME_DIR/runware/daemon.sock, /tmp/runware-<uid>/daemon.sock)
  --no-autostart     do not start a daemon when none answers (default: start one when RUNWARE_API_KEY is set)`;

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | undefined>;

export function parse(argv: string[], options: Options, positionals = false): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, ...options }, strict: true, allowPositionals: positionals });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0]);
  }
}

export function int(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${String(v)}'`);
  return n;
}

export function num(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${String(v)}'`);
  return n;
}

export function flagsOf(values: Values): ClientFlags {
  return { socket: values["socket"] as string | undefined, noAutostart: values["no-autostart"] as boolean | undefined };
}

export function usage(text: string): number {
  process.stdout.write(`${text}\n`);
  return EXIT.ok;
}
