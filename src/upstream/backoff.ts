/**
 * Capped exponential backoff with full jitter and a floor (the AWS formulation; docs/protocol.md
 * §11.2). Pure: the random source is injected so tests assert exact delays. sdk-js reconnects after a
 * fixed 1 s forever (docs/protocol.md §10.2), which hammers a struggling server in lockstep.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  floorMs: number;
  factor: number;
}

export type RandomSource = () => number;

/** The delay before attempt number `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, p: BackoffPolicy, random: RandomSource = Math.random): number {
  const ceiling = Math.min(p.maxMs, p.baseMs * p.factor ** Math.max(0, attempt));
  return Math.max(p.floorMs, Math.floor(random() * ceiling));
}

/**
 * Counts consecutive failed attempts. The count resets only once a connection has stayed up for
 * `minUptimeMs`, so a server that accepts and immediately drops us keeps backing off.
 */
export class Backoff {
  private attempt = 0;
  private upSince: number | undefined;

  constructor(
    private readonly policy: BackoffPolicy & { minUptimeMs: number },
    private readonly random: RandomSource = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  /** The delay to wait now; advances the attempt counter. */
  next(): number {
    return backoffDelay(this.attempt++, this.policy, this.random);
  }

  get attempts(): number {
    return this.attempt;
  }

  /** The link became usable. */
  up(): void {
    this.upSince = this.now();
  }

  /** The link went down: forgive past failures only if it had been up long enough. */
  down(): void {
    if (this.upSince !== undefined && this.now() - this.upSince >= this.policy.minUptimeMs) this.attempt = 0;
    this.upSince = undefined;
  }
}
