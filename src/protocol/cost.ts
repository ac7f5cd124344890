/**
 * What a task cost (issue 16). Runware puts `cost` (USD) on each result item only when the task
 * asked with `includeCost: true` (docs/protocol.md §3.1, §3.4, §9). The daemon asks for every task
 * type that reports one, so spend is known for all of them, and removes `cost` from the answers of
 * callers who did not ask (their answers look as they would from Runware).
 */
import type { DataItem } from "./schemas.js";

/** Task types whose results carry `cost` with `includeCost` (the types the simulator bills; docs/protocol.md §9). */
const REPORTS_COST: ReadonlySet<string> = new Set([
  "imageInference",
  "videoInference",
  "audioInference",
  "textInference",
  "promptEnhance",
  "upscale",
  "imageUpscale",
  "removeBackground",
  "imageBackgroundRemoval",
  "caption",
  "imageCaption",
]);

export const reportsCost = (taskType: string): boolean => REPORTS_COST.has(taskType);

/** The item as a caller who did not ask for the cost sees it. */
export function withoutCost(item: DataItem): DataItem {
  if (!("cost" in item)) return item;
  const { cost: _cost, ...rest } = item;
  return rest;
}

/** The USD a task's results report (the sum of their `cost`), or undefined when none has one. */
export function costOf(items: readonly DataItem[]): number | undefined {
  let sum: number | undefined;
  for (const item of items) {
    const c = item["cost"];
    // A cost is never negative: a value from the wire that is, is not one.
    if (typeof c === "number" && Number.isFinite(c) && c >= 0) sum = (sum ?? 0) + c;
  }
  return sum === undefined ? undefined : roundUsd(sum);
}

/** A sum of binary floating-point costs, rounded to Runware's own precision (at most 10 decimals). */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e10) / 1e10;
}
