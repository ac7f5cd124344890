/**
 * Bytes owed to local clients and not yet taken by them (docs/reliability.md, Limits): what a
 * WebSocket or NDJSON client has not read (`maxClientUnsentBytes` each), and, for every client
 * together, that plus the answers held for JSON callers (`maxUnsentBytes`). A client past its own
 * budget is cut; when all together would pass theirs, the one holding most is cut first, so many
 * slow clients cannot add up. Cutting is the client's business (close frame, error line, 503);
 * a cut client keeps counting until its connection is gone (its close waits behind what it has not
 * read, so that it can learn why), and one cut a second time must let go at once (destroy its
 * connection, and count 0). Bookkeeping, no I/O.
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
  /** Clients cut once: written to no more, their bytes counted until they are gone. */
  private readonly closing = new WeakSet<LocalClient>();
  /** The event-loop turn each client was last checked against its own budget in. */
  private readonly checked = new WeakMap<LocalClient, number>();
  private turn = 0;
  private turnEnding = false;
  /**
   * An upper bound on what every client holds, valid until the turn ends: the sum of the last full
   * count this turn plus every byte admitted since (within a turn clients only take bytes, never
   * give them back, so it cannot be low). While it leaves room, a write costs no walk over every
   * client; -1 when there was no count this turn.
   */
  private bound = -1;

  constructor(
    readonly perClient: number,
    readonly total: number,
  ) {}

  /** Count `c` from now on; the returned function stops counting it (call it when it closes). */
  add(c: LocalClient): () => void {
    this.clients.add(c);
    return () => {
      this.clients.delete(c);
      this.closing.delete(c);
    };
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * May `bytes` more go to (or be held for) `c`? When `ownBudget`, not if that would take `c`
   * past `perClient` with something already waiting (one item larger than the budget still goes to
   * a client that has taken everything): then `c` is cut. That is judged on the first write of each
   * event-loop turn: the items of one upstream frame go out in one turn, and a client that reads
   * cannot have read any of them before the turn ends. When all clients together would pass
   * `total`, one client is cut per write: the open one holding most (a client with nothing waiting
   * still gets its one item), its close queued behind what it holds so it can still learn why;
   * but once the clients already cut hold more than `total` themselves, the largest of them is cut
   * again, at once, to give its bytes back.
   */
  admit(c: LocalClient, bytes: number, ownBudget = true): boolean {
    const own = c.unsent();
    if (ownBudget && this.newTurnFor(c) && own > 0 && own + bytes > this.perClient) {
      this.cutOnce(c, `${own} bytes unread, over the ${this.perClient}-byte budget of a local client`);
      return false;
    }
    if (this.bound >= 0 && this.bound + bytes <= this.total) {
      this.bound += bytes;
      return true;
    }
    let sum = bytes;
    let closing = 0;
    let open: [LocalClient, number] | undefined = own > 0 ? [c, own + bytes] : undefined;
    let shut: [LocalClient, number] | undefined;
    for (const x of this.clients) {
      const n = x.unsent();
      sum += n;
      if (this.closing.has(x)) {
        closing += n;
        if (!shut || n > shut[1]) shut = [x, n];
      } else if (x !== c && n > 0 && (!open || n > open[1])) open = [x, n];
    }
    if (sum <= this.total) {
      this.bound = sum;
      this.endOfTurn();
      return true;
    }
    this.bound = -1;
    const why = `local clients hold ${sum - bytes} bytes, over the daemon's ${this.total}-byte total`;
    if (closing > this.total && shut) {
      shut[0].cut(`${why}; those already closed hold ${closing}`);
      return true;
    }
    if (!open) return true;
    this.cutOnce(open[0], `${why}; this one held most (${open[1]})`);
    return open[0] !== c;
  }

  /** True on `c`'s first write of this turn. */
  private newTurnFor(c: LocalClient): boolean {
    this.endOfTurn();
    if (this.checked.get(c) === this.turn) return false;
    this.checked.set(c, this.turn);
    return true;
  }

  /** Once per turn: when it ends, a new turn starts with no bound. */
  private endOfTurn(): void {
    if (this.turnEnding) return;
    this.turnEnding = true;
    setImmediate(() => {
      this.turn++;
      this.turnEnding = false;
      this.bound = -1;
    });
  }

  private cutOnce(c: LocalClient, reason: string): void {
    this.closing.add(c);
    c.cut(reason);
  }
}
