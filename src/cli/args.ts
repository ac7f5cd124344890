/**
 * What every client verb shares, and nothing heavy: exit codes, the client flags, number checks,
 * output (full JSON on stdout, human words on stderr). Client verbs must start about as fast as
 * bare Node, so this module imports only the shared parser (node:util) and errors.ts.
 */
import type { Envelope } from "../client/index.js";
import { labelFor } from "../client/label.js";
import { UsageError } from "../errors.js";
import { parseFlags, type FlagSpecs, type FlagValues, type Parsed } from "../util/args.js";

export const EXIT = {
  ok: 0,
  /** The answer carried `errors`. */
  errors: 1,
  /** Usage or configuration error. */
  usage: 2,
  /** No daemon could be reached (and none could be started). */
  unreachable: 3,
} as const;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function say(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Exit code for a Runware envelope: 1 when `errors` is present. */
export function exitFor(env: Envelope): number {
  return env.errors && env.errors.length > 0 ? EXIT.errors : EXIT.ok;
}

export interface ClientFlags {
  socket?: string | undefined;
  noAutostart?: boolean | undefined;
  /** `--out DIR`: save every output file there (save.ts). */
  out?: string | undefined;
  /** `--progress`: the live lines even when stderr is not a terminal (progress.ts). */
  progress?: boolean | undefined;
  /** `--label`: who asked, for the daemon's history and spend (default RUNWARE_LABEL, set by main.ts to `runware <verb>`). */
  label?: string | undefined;
}

/** Flags every client verb takes. */
const CLIENT_OPTIONS = {
  socket: { type: "string" },
  "no-autostart": { type: "boolean" },
  label: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies FlagSpecs;

export const CLIENT_USAGE = `  --socket PATH      the daemon's socket (default: RUNWARE_SOCKET, $XDG_RUNTIME_DIR/runware/daemon.sock, /tmp/runware-<uid>/daemon.sock)
  --no-autostart     do not start a daemon when none answers (default: start one when RUNWARE_API_KEY is set)
  --label TEXT       who asked, in the daemon's history and spend (default: RUNWARE_LABEL, else 'runware <command>')`;

/** A client verb's arguments: its own flags plus the client flags, through the one parser. */
export function parseClient(argv: readonly string[], options: FlagSpecs, positionals = false): Parsed {
  return parseFlags(argv, { ...CLIENT_OPTIONS, ...options }, { positionals });
}

/** A string flag's value (parseFlags has checked the type). */
export function str(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** A whole-number flag, or undefined when absent. */
export function int(values: FlagValues, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const n = v.trim() === "" ? Number.NaN : Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${v}'`);
  return n;
}

/** A number flag, or undefined when absent. */
export function num(values: FlagValues, name: string): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const n = v.trim() === "" ? Number.NaN : Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  return n;
}

/** Drop undefined fields, so a task carries only what the user set. */
export function compact<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function flagsOf(values: FlagValues): ClientFlags {
  return {
    socket: str(values, "socket"),
    noAutostart: values["no-autostart"] === true,
    out: str(values, "out"),
    progress: values["progress"] === true,
    label: labelFlag(str(values, "label")),
  };
}

/** `--label`, checked as the daemon would (client/label.ts): a bad one is a usage error, nothing sent. */
function labelFlag(raw: string | undefined): string | undefined {
  try {
    return raw === undefined ? undefined : labelFor(raw, {}, undefined);
  } catch (err) {
    throw new UsageError(`--label: ${(err as Error).message}`);
  }
}

/** `--out` and `--progress`, for the verbs that run tasks (`RESULT_USAGE` is their help). */
export const RESULT_OPTIONS = { out: { type: "string" }, progress: { type: "boolean" } } as const satisfies FlagSpecs;

export const RESULT_USAGE = `  --out DIR            save every output (images, video, audio, 3D, text) as DIR/<uuid>.<ext>;
                       the printed JSON names each file in savedFiles
  --progress           live progress on stderr even when it is not a terminal (one line per change)`;

export function usage(text: string): number {
  process.stdout.write(`${text}\n`);
  return EXIT.ok;
}
