/**
 * The root pino logger. The API key must be impossible to log at any level, in any field
 * (docs/local-api.md §5): it is redacted wherever it could sit, and the code never passes it to a
 * logger on purpose.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

const REDACT_PATHS = [
  "apiKey",
  "*.apiKey",
  "*.*.apiKey",
  "[*].apiKey",
  "*[*].apiKey",
  "key",
  "*.key",
  "headers.authorization",
  "*.headers.authorization",
];

export function createLogger(level: LevelWithSilent = "info", destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { pid: process.pid } };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that writes nothing: the default for library use and tests. */
export const silentLogger: Logger = pino({ level: "silent" });

/** What a short-lived writer needs of a logger: warnings. */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Warnings carrying `bindings`, without a pino child per request: child() redacts its bindings as
 * it is made, which costs more than answering a small request (docs/benchmarks.md, throughput).
 */
export function warnWith(parent: Logger, bindings: Record<string, unknown>): WarnLogger {
  return { warn: (obj, msg) => parent.warn({ ...bindings, ...obj }, msg) };
}
