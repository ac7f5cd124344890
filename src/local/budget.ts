/**
 * A byte budget shared by many holders: request bodies and WebSocket messages being read
 * (`maxReadingBytes`). A holder grows as bytes arrive; growth that does not fit is refused (the
 * caller answers 503 / closes 1013), never waited for: partly read bodies waiting on each other
 * for room could wait forever. Pure bookkeeping, no I/O.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** A holder of bytes in this budget, at 0. */
  hold(): Hold {
    return new Hold(this);
  }

  /** @internal */
  take(n: number): boolean {
    if (n > this.limit - this.used) return false;
    this.used += n;
    return true;
  }

  /** @internal */
  give(n: number): void {
    this.used -= n;
  }
}

export class Hold {
  private bytes = 0;

  constructor(private readonly budget: ByteBudget) {}

  get held(): number {
    return this.bytes;
  }

  /** Hold `n` more bytes; false (holding nothing more) when the budget has no room for them. */
  grow(n: number): boolean {
    if (!this.budget.take(n)) return false;
    this.bytes += n;
    return true;
  }

  /** Give back everything held; idempotent. */
  release(): void {
    this.budget.give(this.bytes);
    this.bytes = 0;
  }
}
