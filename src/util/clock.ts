/**
 * Time as a dependency. Logic that waits takes a `Clock` instead of calling the globals, so tests can
 * count live timers (every exit path must clear its timers) or drive time by hand.
 */
export type Timer = ReturnType<typeof setTimeout>;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => {
    if (timer !== undefined) clearTimeout(timer);
  },
};

/** A real clock that knows how many of its timers are still pending: the leak check of the tests. */
export class TrackingClock implements Clock {
  private readonly live = new Set<Timer>();

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const timer = setTimeout(() => {
      this.live.delete(timer);
      fn();
    }, ms);
    this.live.add(timer);
    return timer;
  }

  clearTimeout(timer: Timer | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.live.delete(timer);
  }

  get pending(): number {
    return this.live.size;
  }
}
