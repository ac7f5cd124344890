/**
 * The local listener's connection cap (`maxLocalConnections`, docs/local-api.md §2.7): every
 * socket counts, local WebSockets included, until it closes. One more is answered at once with a
 * 503 `tooManyConnections` (written before the client's request, so it reads it as the answer to
 * whatever it sends) and closed; whatever it sends is read and ignored, and it is cut after
 * `lingerMs` if it does not close first. At most MAX_LINGERING refused sockets wait like that: past
 * them a refused socket is closed at once with no answer, so a flood cannot take the descriptors
 * the cap keeps free (docs/reliability.md, Limits).
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "../log.js";
import { sendRawError } from "./http.js";

export const TOO_MANY_CONNECTIONS_CODE = "tooManyConnections";
/** Refused sockets waiting for their client to close, at most. */
export const MAX_LINGERING = 32;
/** A refusal is logged at most once per this, with the count since the last line. */
const LOG_EVERY_MS = 1_000;

export interface ConnectionCap {
  readonly open: number;
  /** A socket refused by the cap: requests and upgrades on it are ignored. */
  refused(socket: object): boolean;
}

export function capConnections(server: Server, max: number, lingerMs: number, logger: Logger): ConnectionCap {
  const log = logger.child({ mod: "local-api" });
  const refusedSockets = new WeakSet<object>();
  let open = 0;
  let lingering = 0;
  let unlogged = 0;
  let loggedAt = -Infinity;

  server.on("connection", (socket: Socket) => {
    if (open < max) {
      open++;
      socket.once("close", () => open--);
      return;
    }
    refusedSockets.add(socket);
    socket.on("error", () => undefined);
    unlogged++;
    const now = performance.now();
    if (now - loggedAt >= LOG_EVERY_MS) {
      log.warn({ refused: unlogged, open, max }, "local connection refused: too many open");
      loggedAt = now;
      unlogged = 0;
    }
    if (lingering >= MAX_LINGERING) {
      socket.destroy();
      return;
    }
    lingering++;
    const cut = setTimeout(() => socket.destroy(), lingerMs).unref();
    socket.once("close", () => {
      lingering--;
      clearTimeout(cut);
    });
    socket.once("end", () => socket.destroy());
    sendRawError(
      socket,
      503,
      {
        code: TOO_MANY_CONNECTIONS_CODE,
        message: `the daemon has ${open} local connections open, its limit (maxLocalConnections ${max}); retry in a moment`,
      },
      { "retry-after": "1" },
    );
  });

  return {
    get open() {
      return open;
    },
    refused: (socket) => refusedSockets.has(socket),
  };
}
