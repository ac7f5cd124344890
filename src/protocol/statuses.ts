/**
 * The `status` of a getResponse item (docs/protocol.md §4): one of these means "not finished yet".
 * Runware documents `processing`; the others are tolerated as the Python SDK does. Shared by the
 * daemon's engine and the CLI's `poll`, so both stop on the same rule.
 */
export const PENDING_STATUSES: ReadonlySet<string> = new Set(["processing", "pending", "queued", "scheduled", "waiting"]);

export function isPendingStatus(status: unknown): boolean {
  return typeof status === "string" && PENDING_STATUSES.has(status);
}
