/**
 * The loopback TCP listener (`--listen`, issue 17; docs/local-api.md §7): the same local API as
 * the Unix socket, behind the local token (tcp-gate.ts, token.ts); only the token file's path is ever logged.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log.js";
import { hostPort, type ListenAddress } from "./listen.js";
import { TcpGate } from "./tcp-gate.js";

export interface TcpListener {
  readonly server: Server;
  readonly gate: TcpGate;
  /** `127.0.0.1:PORT` as bound. */
  readonly address: string;
  close(graceMs: number): Promise<void>;
}

/** `token`: read from `tokenFile` (token.ts) before the daemon started anything; only the path is logged. */
export async function listenTcp(
  at: ListenAddress,
  token: string,
  tokenFile: string,
  serverFor: (gate: TcpGate) => Server,
  logger: Logger,
): Promise<TcpListener> {
  const log = logger.child({ mod: "tcp" });
  const gate = new TcpGate(token, log);
  const server = serverFor(gate);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    server.once("error", failed);
    server.listen({ host: at.host, port: at.port, ipv6Only: at.host === "::1" }, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address = hostPort({ host: bound.address, port: bound.port });
  log.info({ listen: address, tokenFile }, `listening on tcp ${address} (token in ${tokenFile})`);
  return {
    server,
    gate,
    address,
    close: (graceMs) => {
      gate.close();
      return closeServer(server, graceMs);
    },
  };
}

/** Close a server: idle connections at once, responses still being written get `graceMs`, then are cut. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  let force: NodeJS.Timeout | undefined;
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
    force = setTimeout(() => server.closeAllConnections(), graceMs).unref();
  }).finally(() => clearTimeout(force)); // a stopped daemon leaves no timer (it would keep the whole daemon reachable)
}
