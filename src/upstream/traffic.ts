/**
 * What went over the upstream link, counted for metrics (issue 17): bytes each way, pongs
 * missed, retries by Runware's error code. Plain counters, only ever growing; the engine and its
 * connection own them, metrics read them at a scrape.
 */

/** Distinct codes counted by name; past that, as `other` (codes come from the wire: a metric's labels stay bounded). */
const MAX_CODES = 64;

export class LinkTraffic {
  bytesIn = 0;
  bytesOut = 0;
  heartbeatMisses = 0;
  private readonly retries = new Map<string, number>();

  retried(code: string | undefined): void {
    const key = code !== undefined && (this.retries.has(code) || this.retries.size < MAX_CODES) ? code : "other";
    this.retries.set(key, (this.retries.get(key) ?? 0) + 1);
  }

  get retriesByCode(): ReadonlyMap<string, number> {
    return this.retries;
  }
}
