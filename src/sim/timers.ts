/**
 * A set of timers that can all be cancelled at once, so `SimServer.close()` (or a closing connection)
 * leaves nothing scheduled behind. `sleep` resolves `false` instead of hanging when cancelled, so
 * async code waiting on it always finishes.
 */
export class Timers {
  private readonly live = new Map<NodeJS.Timeout, () => void>();

  /** Run `fn` after `ms`; returns a handle for `cancel`. */
  after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.live.delete(t);
      fn();
    }, ms);
    this.live.set(t, () => undefined);
    return t;
  }

  /** Resolves `true` after `ms`, or `false` as soon as the set is cleared. */
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.live.delete(t);
        resolve(true);
      }, ms);
      this.live.set(t, () => resolve(false));
    });
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (t === undefined) return;
    const onCancel = this.live.get(t);
    if (!onCancel) return;
    clearTimeout(t);
    this.live.delete(t);
    onCancel();
  }

  /** Cancel everything (pending sleeps resolve `false`). */
  clear(): void {
    for (const t of this.live.keys()) this.cancel(t);
  }

  get size(): number {
    return this.live.size;
  }
}
