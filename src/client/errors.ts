/** The client's errors: `Error` subclasses with a stable `code`. */
import type { RunwareErrorObject } from "../errors.js";

/** Base class of the client's errors; `code` is stable. */
export class ClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Nothing answers on the socket (no daemon, or a stale socket file). */
export class DaemonUnreachableError extends ClientError {
  constructor(
    readonly socketPath: string,
    cause: NodeJS.ErrnoException,
  ) {
    super("daemonUnreachable", `no daemon answers on ${socketPath} (${cause.code ?? cause.message})`, { cause });
  }
}

/** The daemon refused the request (4xx/5xx) with Runware-shaped errors. */
export class RequestRefusedError extends ClientError {
  constructor(
    readonly status: number,
    readonly errors: RunwareErrorObject[],
  ) {
    const first = errors[0];
    super(first?.code ?? `http${status}`, first?.message ?? `the daemon answered HTTP ${status}`);
  }
}

/** A label the daemon would refuse, or that could not travel in a header (docs/local-api.md §2.9). */
export class InvalidLabelError extends ClientError {
  constructor(label: string) {
    super("invalidLabel", `the label '${label.replace(/[^\x20-\x7e]/g, "?")}' is not 1 to 64 printable ASCII characters`);
  }
}
