/**
 * Reaching the daemon from a client verb. The verb's own request is the probe (no extra status
 * round trip): when nothing answers on the socket, nothing was sent, so after starting a daemon in
 * the background (ssh ControlMaster `auto` style) the request is simply made again.
 */
import { connect, DaemonUnreachableError, type RunwareClient } from "../client/index.js";
import { daemonFiles, defaultSocketPath } from "../paths.js";
import { NoDaemonError } from "../errors.js";
import { say, type ClientFlags } from "./args.js";

export async function withDaemon<T>(flags: ClientFlags, fn: (client: RunwareClient) => Promise<T>): Promise<T> {
  const socket = flags.socket ?? defaultSocketPath();
  const client = connect({ socket, ...(flags.label ? { label: flags.label } : {}) });
  try {
    return await fn(client);
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
  }
  if (flags.noAutostart || !process.env["RUNWARE_API_KEY"]) {
    say(
      `runware: no daemon on ${socket}.${flags.noAutostart ? "" : " Set RUNWARE_API_KEY to let it start one,"} or run 'runware start' / 'runware daemon'.`,
    );
    throw new NoDaemonError(socket);
  }
  say(`runware: starting a daemon on ${socket} (log: ${daemonFiles(socket).log})`);
  const { startBackgroundDaemon } = await import("./autostart.js");
  await startBackgroundDaemon(socket);
  return fn(client);
}
