/**
 * `--listen HOST:PORT` (issue 17; docs/local-api.md §7): the local API over loopback TCP, for
 * clients that cannot use a Unix socket (the Python SDK, other languages, a container without the
 * socket mounted). Only 127.0.0.1 and [::1]: the token guards the listener against other users of
 * this machine, and nothing guards it against the network. Pure.
 */
export interface ListenAddress {
  host: "127.0.0.1" | "::1";
  /** 0: any free port (the daemon logs the one it got). */
  port: number;
}

const FORM = /^(?:127\.0\.0\.1|\[::1\]):(\d{1,5})$/;

/** The address, or why not (a message for the usage error). */
export function parseListen(text: string): ListenAddress | string {
  const m = FORM.exec(text.trim());
  if (!m) return "must be 127.0.0.1:PORT or [::1]:PORT (loopback only: the listener is for this machine)";
  const port = Number(m[1]);
  if (port > 65_535) return "the port must be 0 to 65535";
  return { host: text.trim().startsWith("[") ? "::1" : "127.0.0.1", port };
}

/** As a URL's host part: `127.0.0.1:8787`, `[::1]:8787`. */
export function hostPort(a: { host: string; port: number }): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
