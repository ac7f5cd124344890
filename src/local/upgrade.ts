/**
 * `GET /v1` with `Upgrade: websocket` (docs/local-api.md §2.6, §7.1): checked (route, browser
 * origin, label; on TCP the token in a Bearer header, else the connection's first task) and handed
 * to the local WebSocket. An event listener: nothing in it may throw.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../log.js";
import { fromBrowser, sendRawError, splitTarget } from "./http.js";
import { labelOrError } from "./label.js";
import type { TaskService } from "./service.js";
import { bearerOf, invalidToken, type TcpGate } from "./tcp-gate.js";
import type { LocalWebSocket } from "./wsapi.js";

export interface UpgradeDeps {
  service: TaskService;
  ws: LocalWebSocket;
  /** On the TCP listener. */
  gate: TcpGate | undefined;
  log: Logger;
  /** The connection was over the cap (answered already). */
  refused(socket: Duplex): boolean;
}

export function upgradeHandler(d: UpgradeDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    if (d.refused(socket)) return;
    // Node takes its own error listener off an upgrade socket: a peer that resets while an answer
    // (404, 403, 400, 401) is written, or during a token check, must not take the daemon down.
    socket.on("error", () => socket.destroy());
    // splitTarget, not new URL(): an unparseable absolute target must not throw here.
    const { path, query } = splitTarget(req.url);
    if (path !== "/v1") return sendRawError(socket, 404, { code: "notFound", message: `no WebSocket endpoint at ${path}` });
    if (fromBrowser(req)) {
      return sendRawError(socket, 403, { code: "forbiddenOrigin", message: "requests from web pages (with an Origin header) are refused" });
    }
    const gate = d.gate;
    const parsed = labelOrError(new URLSearchParams(query).getAll("label"));
    // On TCP a label is taken in with the connection's first task (admissionError), after its token: not here.
    const label = typeof parsed === "string" && !gate ? (d.service.admitLabel(parsed) ?? parsed) : parsed;
    if (typeof label !== "string") return sendRawError(socket, 400, label.toRunwareError());
    if (!gate) return d.ws.handleUpgrade(req, socket, head, label);
    // On TCP a token in the upgrade's header authenticates the connection; without one, its first task must.
    const bearer = bearerOf(req);
    if (bearer === undefined) return d.ws.handleUpgrade(req, socket, head, label, gate);
    gate.verify(bearer, "websocket").then(
      (ok) => (ok ? d.ws.handleUpgrade(req, socket, head, label) : sendRawError(socket, 401, invalidToken("wrong token"))),
      (err: unknown) => {
        d.log.error({ err }, "token check failed");
        socket.destroy();
      },
    );
  };
}
