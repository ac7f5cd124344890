/**
 * Where the daemon's logs go during chaos, fuzz and soak runs: a pino destination that reads every
 * line as it is written, at the most verbose level, and keeps only what the checks need: lines that
 * contain a secret (there must be none), the engine's transient-retry decisions (only transient codes
 * may be retried, docs/local-api.md §3.5), and counts. Nothing else is stored, so a long run stays small.
 */
import type { DestinationStream } from "pino";
import type { SimServer } from "../../src/sim/index.js";
import { createLogger, type Logger } from "../../src/log.js";

export interface RetryRecord {
  taskUUID: string;
  code: string;
  retry: number;
}

/** The engine's log message for a transient retry (src/upstream/engine.ts onErrors). */
const RETRY_MSG = "transient error; retrying under the same taskUUID";
/** Leaked lines kept for the report (the first few are enough to see where it came from). */
const KEEP_LEAKS = 5;

export class LogCapture implements DestinationStream {
  lines = 0;
  bytes = 0;
  readonly leaks: string[] = [];
  leakCount = 0;
  readonly retries: RetryRecord[] = [];
  /** Lines per level name (trace, debug, info, warn, error, fatal). */
  readonly byLevel: Record<string, number> = {};

  constructor(private readonly secrets: readonly string[]) {}

  write(line: string): void {
    this.lines++;
    this.bytes += line.length;
    if (this.secrets.some((s) => line.includes(s))) {
      this.leakCount++;
      if (this.leaks.length < KEEP_LEAKS) this.leaks.push(line.slice(0, 500));
    }
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level) {
      const name = LEVELS[Number(level)] ?? level;
      this.byLevel[name] = (this.byLevel[name] ?? 0) + 1;
    }
    if (line.includes(RETRY_MSG)) {
      const rec = JSON.parse(line) as { taskUUID?: string; code?: string; retry?: number };
      if (typeof rec.taskUUID === "string") this.retries.push({ taskUUID: rec.taskUUID, code: String(rec.code), retry: Number(rec.retry) });
    }
  }

  /** A pino logger at `trace` writing here (pino's own redaction included, as in the daemon). */
  logger(): Logger {
    return createLogger("trace", this);
  }

  /** Retries per taskUUID. */
  retriesByTask(): Map<string, RetryRecord[]> {
    const m = new Map<string, RetryRecord[]>();
    for (const r of this.retries) {
      const list = m.get(r.taskUUID) ?? [];
      list.push(r);
      m.set(r.taskUUID, list);
    }
    return m;
  }
}

const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/**
 * Watch every frame the simulator receives for a secret in anything but an `authentication` task
 * (the daemon's own key belongs there and nowhere else: not in a local client's key, not in an
 * `apiKey` field a client sent).
 */
export function watchUpstreamForSecrets(sim: SimServer, secrets: readonly string[]): { leaks: string[] } {
  const found = { leaks: [] as string[] };
  sim.tapFrames((text) => {
    if (secrets.some((s) => text.includes(s))) {
      let tasks: unknown;
      try {
        tasks = JSON.parse(text);
      } catch {
        tasks = [text];
      }
      for (const t of Array.isArray(tasks) ? tasks : [tasks]) {
        const one = JSON.stringify(t);
        const isAuth = typeof t === "object" && t !== null && (t as Record<string, unknown>)["taskType"] === "authentication";
        if (!isAuth && secrets.some((s) => one.includes(s)) && found.leaks.length < KEEP_LEAKS) found.leaks.push(one.slice(0, 200));
      }
    }
  });
  return found;
}
