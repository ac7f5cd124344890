/**
 * `webhookURL` as Runware honours it (docs/protocol.md §3.3): over the socket only the
 * acknowledgement; each result is POSTed to the URL as JSON. The simulator posts only to loopback
 * (it must never reach out of the machine): any other URL is refused at validation.
 */
import { wireError, type WireError } from "./wire.js";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The task's webhook URL, undefined when it has none, or the error for one the simulator refuses. */
export function webhookOf(task: Record<string, unknown>, ids: { taskType: string; taskUUID: string }): string | WireError | undefined {
  const url = task["webhookURL"];
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = typeof url === "string" ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || !LOOPBACK_HOSTS.has(parsed.hostname)) {
    return {
      ...wireError("invalidWebhookURL", { parameter: "webhookURL", ...ids }),
      message: "Invalid value for 'webhookURL': the simulator posts results to loopback http(s) URLs only.",
    };
  }
  return parsed.href;
}

/** POST one result item to the webhook; a failure is reported, never thrown. */
export function postResult(url: string, item: Record<string, unknown>, onError: (err: unknown) => void): void {
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(item) })
    .then((res) => res.body?.cancel())
    .catch(onError);
}
