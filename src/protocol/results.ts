/**
 * What a result item is, shared by the daemon's engine and the CLI so both count results by one
 * rule (docs/protocol.md §3.3, §4.1).
 */
import type { DataItem } from "./schemas.js";

/** Fields that identify one generated result across replays and polls (sdk-js dedupes the same way). */
const IDENTITY_FIELDS = ["imageUUID", "videoUUID", "mediaUUID", "audioUUID", "guideImageUUID", "maskImageUUID"] as const;

export function resultIdentity(item: DataItem): string | undefined {
  for (const f of IDENTITY_FIELDS) {
    const v = item[f];
    if (typeof v === "string") return `${f}:${v}`;
  }
  return undefined;
}

/**
 * An async task's acknowledgement (`{taskType, taskUUID}`, docs/protocol.md §4.1): an item of an
 * async task with no result identity that is not a success. It is not a result.
 */
export function isAsyncAcknowledgement(item: DataItem): boolean {
  return resultIdentity(item) === undefined && item["status"] !== "success";
}
