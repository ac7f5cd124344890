/**
 * Slowing down guessing (issue 17): every TCP peer is 127.0.0.1, so a limit per peer means
 * nothing; instead, once failed token checks come in a burst, every failed attempt's answer waits
 * for a slot, slots spaced further apart the more failures there were, and no answer waits more
 * than MAX_WAIT_MS. The right token is never delayed (tcp-gate.ts checks it first), so a guesser
 * cannot lock its user out. This slows a guesser that waits for its answers; one that drops each
 * connection early is held back only by connecting again: defence in depth for a 256-bit token,
 * which guessing cannot reach either way. Pure: times are passed in.
 */

/** Failures counted over this window. */
export const WINDOW_MS = 10_000;
/** This many failures in the window cost nothing: a mistyped token, a client retrying once. */
export const FREE_FAILURES = 5;
/** Spacing of attempts per failure past the free ones, up to MAX_SPACING_MS. */
const SPACING_PER_FAILURE_MS = 50;
const MAX_SPACING_MS = 1_000;
/** The longest a failed attempt's answer waits: slots never pile up into minutes. */
export const MAX_WAIT_MS = 2_000;
/** Failure times kept, at most: the window never needs more to reach MAX_SPACING_MS. */
const KEPT = FREE_FAILURES + MAX_SPACING_MS / SPACING_PER_FAILURE_MS;

export class AuthThrottle {
  private failures: number[] = [];
  private next = 0;
  /** Every failure since start (for metrics and logs). */
  total = 0;

  /** A check failed at `now`. */
  failed(now: number): void {
    this.total++;
    this.failures.push(now);
    if (this.failures.length > KEPT) this.failures.shift();
  }

  /** How long a failed attempt made at `now` waits before it is answered (0 outside a burst); takes its slot. */
  delay(now: number): number {
    const recent = this.recent(now);
    if (recent <= FREE_FAILURES) return 0;
    const spacing = Math.min(MAX_SPACING_MS, (recent - FREE_FAILURES) * SPACING_PER_FAILURE_MS);
    const at = Math.min(Math.max(this.next, now), now + MAX_WAIT_MS);
    this.next = at + spacing;
    return at - now;
  }

  /** Failures within the window before `now`. */
  recent(now: number): number {
    while (this.failures.length > 0 && (this.failures[0] as number) <= now - WINDOW_MS) this.failures.shift();
    return this.failures.length;
  }
}
