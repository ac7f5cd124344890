/**
 * Process resources for leak checks: a forced GC (without needing `node --expose-gc` on the command
 * line), heap and RSS, and the live libuv handles by type (sockets, timers, servers).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gcFn: (() => void) | undefined;

/** Run a full garbage collection (twice: weak references and finalizers settle on the second). */
export function forceGc(): void {
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
  gcFn();
}

export interface ResourceSample {
  /** performance.now() */
  t: number;
  rss: number;
  heapUsed: number;
  /** Live handles and requests by type (`TCPSocketWrap`, `PipeWrap`, `Timeout`, ...). */
  handles: Record<string, number>;
  handleCount: number;
}

export function sample(gc = true): ResourceSample {
  if (gc) forceGc();
  const m = process.memoryUsage();
  const handles: Record<string, number> = {};
  for (const h of process.getActiveResourcesInfo()) handles[h] = (handles[h] ?? 0) + 1;
  return {
    t: performance.now(),
    rss: m.rss,
    heapUsed: m.heapUsed,
    handles,
    handleCount: Object.values(handles).reduce((a, b) => a + b, 0),
  };
}

/** Handle types whose count is above the baseline's. */
function extraHandles(base: ResourceSample, now: ResourceSample): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [k, n] of Object.entries(now.handles)) {
    const more = n - (base.handles[k] ?? 0);
    if (more > 0) extra[k] = more;
  }
  return extra;
}

/**
 * Let closing handles finish closing: a server or socket closed a moment ago is still listed (and
 * still keeps its owner reachable) until libuv has run its close callback on a later loop turn.
 */
export async function quiesce(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Wait (up to `timeoutMs`) for the handles to come back to the baseline; returns what is still extra. */
export async function settleHandles(base: ResourceSample, timeoutMs: number): Promise<Record<string, number>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const extra = extraHandles(base, sample(false));
    if (Object.keys(extra).length === 0 || performance.now() > deadline) return extra;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const MiB = 1024 * 1024;
