/**
 * The upstream connection's states (docs/local-api.md §2.5 `upstream.state`) and the moves allowed between
 * them. Every change goes through `Connection.transition()`, which checks this table.
 */
export type ConnState = "connecting" | "authenticating" | "ready" | "backoff" | "auth-failed" | "draining" | "closed";

export const ALLOWED: Readonly<Record<ConnState, readonly ConnState[]>> = {
  closed: ["connecting"],
  connecting: ["authenticating", "backoff", "draining", "closed"],
  authenticating: ["ready", "draining", "backoff", "auth-failed", "closed"],
  ready: ["backoff", "draining", "closed"],
  // draining is "ready, but no new work": the link still carries results, and still reconnects.
  draining: ["backoff", "closed"],
  backoff: ["connecting", "closed"],
  "auth-failed": ["closed"],
};

/** States in which frames may be written upstream. */
export function isWritable(state: ConnState): boolean {
  return state === "ready" || state === "draining";
}
