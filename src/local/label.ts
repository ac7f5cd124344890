/**
 * Who asked (issue 16): every local caller names itself with a label (the `Runware-Label` header
 * on HTTP, a `label` query parameter on the local WebSocket URL; the CLI sends its verb, the Node
 * client its script's name), `unlabelled` otherwise. Labels are bounded in length (LABEL_MAX_CHARS,
 * printable ASCII: they go in logs, tables and JSON as they are) and in number (the daemon keeps
 * spend by label: a runaway script inventing one per request must not grow that without end).
 */
import { RunwareDaemonError } from "../errors.js";
import { UNLABELLED } from "../upstream/options.js";

/** Longer is refused: a label names a tool or a script, not a request. */
export const LABEL_MAX_CHARS = 64;
const PRINTABLE = /^[\x20-\x7e]+$/;

export class InvalidLabelError extends RunwareDaemonError {
  constructor(why: string) {
    super("invalidLabel", `the label ${why} (at most ${LABEL_MAX_CHARS} printable ASCII characters)`);
  }
}

export class TooManyLabelsError extends RunwareDaemonError {
  constructor(max: number) {
    super("tooManyLabels", `the daemon already keeps ${max} labels (maxLabels); use one of them or restart it`);
  }
}

/** The label a raw header or query value names; throws InvalidLabelError. */
export function parseLabel(raw: string | readonly string[] | null | undefined): string {
  if (raw === undefined || raw === null) return UNLABELLED;
  if (typeof raw !== "string") {
    if (raw.length > 1) throw new InvalidLabelError("is given more than once");
    return parseLabel(raw[0]);
  }
  const label = raw.trim();
  if (label === "") return UNLABELLED;
  if (label.length > LABEL_MAX_CHARS) throw new InvalidLabelError(`is ${label.length} characters long`);
  if (!PRINTABLE.test(label)) throw new InvalidLabelError("holds a character that is not printable ASCII");
  return label;
}

/** The caller's label, or why it is refused (as a value: callers answer it, nothing throws). */
export function labelOrError(raw: string | readonly string[] | null | undefined): string | InvalidLabelError {
  try {
    return parseLabel(raw);
  } catch (err) {
    if (err instanceof InvalidLabelError) return err;
    throw err;
  }
}

/** The labels the daemon has seen since it started, at most `max` of them (pure). */
export class LabelBook {
  private readonly known = new Set<string>([UNLABELLED]);

  constructor(private readonly max: number) {}

  /** Takes the label in, or returns why not. */
  admit(label: string): TooManyLabelsError | undefined {
    if (this.known.has(label)) return undefined;
    if (this.known.size >= this.max) return new TooManyLabelsError(this.max);
    this.known.add(label);
    return undefined;
  }

  get size(): number {
    return this.known.size;
  }
}
