/**
 * Bytes owed to local clients and not yet taken by them (docs/reliability.md, Limits): what a
 * WebSocket or NDJSON client has not read (`maxClientUnsentBytes` each), and, for every client
 * together, that plus the answers held for JSON callers (`maxUnsentBytes`). A client past its own
 * budget is cut; when all together would pass theirs, the one holding most is cut first, so many
 * slow clients cannot add up. Cutting is the client's business (close frame, error line, 503);
 * a cut client keeps counting until its connection is gone, and one cut a second time must let go
 * at once (destroy its connection, and count 0). Pure bookkeeping.
 */

/** The code of the error a client gets when it is cut (a WebSocket's close reason starts with it). */
export const CLIENT_TOO_SLOW_CODE = "clientTooSlow";

export interface LocalClient {
  /** Bytes written to it or held for it, not yet taken by it. */
  unsent(): number;
  /** Stop writing to it and close it, saying why (a sentence, without the code); its tasks keep running. */
  cut(reason: string): void;
}

export class UnsentBudget {
  private readonly clients = new Set<LocalClient>();

  constructor(
    readonly perClient: number,
    readonly total: number,
  ) {}

  /** Count `c` from now on; the returned function stops counting it (call it when it closes). */
  add(c: LocalClient): () => void {
    this.clients.add(c);
    return () => this.clients.delete(c);
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * May `bytes` more go to (or be held for) `c`? When `ownBudget`, not if that would take `c`
   * past `perClient` with something already waiting (one item larger than the budget still goes to
   * a client that has taken everything): then `c` is cut. Then, while all clients together would
   * pass `total`, the one holding most is cut, possibly `c` itself.
   */
  admit(c: LocalClient, bytes: number, ownBudget = true): boolean {
    const own = c.unsent();
    if (ownBudget && own > 0 && own + bytes > this.perClient) {
      c.cut(`${own} bytes unread, over the ${this.perClient}-byte budget of a local client`);
      return false;
    }
    let sum = bytes;
    const held: Array<[LocalClient, number]> = [];
    for (const x of this.clients) {
      const n = x.unsent();
      sum += n;
      held.push([x, n]);
    }
    if (sum <= this.total) return true;
    if (!this.clients.has(c)) held.push([c, own]);
    held.sort((a, b) => b[1] - a[1]);
    let cutSelf = false;
    for (const [x, n] of held) {
      if (sum <= this.total) break;
      x.cut(`local clients hold ${sum - bytes} bytes, over the daemon's ${this.total}-byte total; this one held most (${n})`);
      sum -= x === c ? n + bytes : n;
      if (x === c) cutSelf = true;
    }
    return !cutSelf;
  }
}
