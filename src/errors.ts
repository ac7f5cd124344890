/**
 * Every error this project throws or rejects with. Each has a stable `code` that callers and the
 * local API can switch on; Runware's own error codes are kept verbatim where a task failed upstream.
 * (sdk-js rejects with strings and plain objects, docs/protocol.md §10.4; we never do.)
 */

/** Runware's error object, as it appears in an `errors` array. */
export interface RunwareErrorObject {
  code: string;
  message: string;
  parameter?: string | string[];
  taskUUID?: string;
  taskType?: string;
  [extra: string]: unknown;
}

export class RunwareDaemonError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  /** The Runware-shaped error object for an `errors` array. */
  toRunwareError(extra?: { taskUUID?: string; taskType?: string; parameter?: string }): RunwareErrorObject {
    return { code: this.code, message: this.message, ...extra };
  }
}

/** A bad command line or setting: exit code 2, one line on stderr naming the flag. */
export class UsageError extends RunwareDaemonError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** A client verb found no daemon and may not start one: exit code 3 (the reason is already on stderr). */
export class NoDaemonError extends RunwareDaemonError {
  constructor(socketPath: string) {
    super("noDaemon", `no daemon on ${socketPath}`);
  }
}

/** A frame from upstream (or a local client) that is not valid JSON or not Runware-shaped. */
export class ProtocolError extends RunwareDaemonError {
  constructor(message: string, options?: ErrorOptions) {
    super("protocolError", message, options);
  }
}

/** Upstream rejected the API key; reconnecting cannot help (docs/local-api.md §3.8). */
export class AuthError extends RunwareDaemonError {}
