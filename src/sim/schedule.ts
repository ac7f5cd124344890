/**
 * When a task's result items finish and how they are grouped into frames. Runware sends results
 * "as they complete": one frame may hold one item or several (docs/protocol.md §3.3), so by default
 * the grouping is random; `single` and `each` pin the two extremes for tests.
 */
import type { Rng } from "./rng.js";
import type { SplitMode } from "./options.js";

export interface FrameGroup {
  /** Milliseconds after the task started. */
  at: number;
  /** Item indices in this frame, ascending. */
  indices: number[];
}

/** Cut `n` items into consecutive groups; group j of k finishes at workMs·(j+1)/k. */
export function planFrames(n: number, split: SplitMode, rng: Rng, workMs: number): FrameGroup[] {
  const sizes = groupSizes(n, split, rng);
  const groups: FrameGroup[] = [];
  let next = 0;
  sizes.forEach((size, j) => {
    groups.push({ at: Math.round((workMs * (j + 1)) / sizes.length), indices: Array.from({ length: size }, (_, i) => next + i) });
    next += size;
  });
  return groups;
}

function groupSizes(n: number, split: SplitMode, rng: Rng): number[] {
  if (n <= 0) return [];
  if (split === "single") return [n];
  if (split === "each") return Array.from({ length: n }, () => 1);
  // random: pick k groups, then k-1 distinct cut points among the n-1 gaps
  const k = rng.int(1, n);
  const gaps = Array.from({ length: n - 1 }, (_, i) => i + 1);
  for (let i = gaps.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [gaps[i], gaps[j]] = [gaps[j]!, gaps[i]!];
  }
  const cuts = gaps.slice(0, k - 1).sort((a, b) => a - b);
  const bounds = [0, ...cuts, n];
  return bounds.slice(1).map((b, i) => b - bounds[i]!);
}
