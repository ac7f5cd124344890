/** The two load shapes: one task at a time (latency), and a closed loop of concurrent workers (throughput). */
import { makeTasks, type Runner } from "./contenders.js";

/** `n` single-task requests one after the other; the latency of each in ms. */
export async function sequential(runner: Runner, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (const task of makeTasks(n)) {
    const t0 = performance.now();
    await runner([task]);
    samples.push(performance.now() - t0);
  }
  return samples;
}

export interface ThroughputRun {
  tasks: number;
  wallMs: number;
  tasksPerSec: number;
}

/**
 * `total` tasks through `runners` working at once, each sending `perRequest` tasks per request and
 * the next request as soon as the last is answered (a closed loop: the rate is what the system
 * sustains, not what the generator offers). Tasks are built before the clock starts.
 */
export async function closedLoop(runners: readonly Runner[], total: number, perRequest: number): Promise<ThroughputRun> {
  const all = makeTasks(total);
  let next = 0;
  const worker = async (run: Runner) => {
    while (next < all.length) {
      const batch = all.slice(next, next + perRequest);
      next += batch.length;
      await run(batch);
    }
  };
  const t0 = performance.now();
  await Promise.all(runners.map(worker));
  const wallMs = performance.now() - t0;
  return { tasks: total, wallMs, tasksPerSec: (total / wallMs) * 1000 };
}
