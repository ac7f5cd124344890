/**
 * The engine's part of `GET /v1/status` (docs/local-api.md §2.5). One definition: the daemon
 * answers with it and the Node client imports the type.
 */
import type { EngineLink } from "./link.js";
import type { ConnState } from "./state.js";

export interface EngineStats {
  upstream: {
    state: ConnState;
    sessionUUID: string | null;
    connectedSince: string | null;
    reconnects: number;
    lastError: string | null;
  };
  /** `async`: async tasks counted against maxAsync (sent and not yet acknowledged, or being polled). */
  tasks: { queued: number; inFlight: number; async: number; completed: number; failed: number };
  limits: { maxInFlight: number; maxQueued: number };
}

export function statsOf(link: EngineLink, tasks: EngineStats["tasks"], limits: { maxInFlight: number; maxQueued: number }): EngineStats {
  return {
    upstream: {
      state: link.state,
      sessionUUID: link.sessionUUID ?? null,
      connectedSince: link.connectedSince ? new Date(link.connectedSince).toISOString() : null,
      reconnects: link.reconnects,
      lastError: link.lastError ?? null,
    },
    tasks,
    limits: { maxInFlight: limits.maxInFlight, maxQueued: limits.maxQueued },
  };
}
