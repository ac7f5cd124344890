/**
 * Wait for a condition instead of sleeping: polls `cond` every few ms until it is truthy, or fails
 * with `what` after `timeoutMs` (generous, for a busy 2-core CI box; tests pass as soon as it holds).
 */
export const WAIT_DEFAULTS = { timeoutMs: 5_000, pollMs: 5 } as const;

export async function waitFor<T>(
  cond: () => T | Promise<T>,
  what = "condition",
  timeoutMs: number = WAIT_DEFAULTS.timeoutMs,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await cond();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, WAIT_DEFAULTS.pollMs));
  }
}
