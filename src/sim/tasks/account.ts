/**
 * `accountManagement` (docs/protocol.md §8; shape: the TS SDK's AccountManagementResult): the
 * simulator answers `operation: "getDetails"` (balance, organisation, usage: account.ts); the usage
 * reports (`getUsageActivity`, ...) are refused as `invalidOperation`, the simulator keeps no history.
 */
import { RUNWARE_LIMITS } from "../limits.js";
import { enumParam, firstProblem, ruleParam, stringParam } from "../validate.js";
import type { TaskHandler } from "./types.js";

export const accountManagement: TaskHandler = {
  validate: (task) =>
    firstProblem(
      () => stringParam(task, "operation", { min: 1 }, true),
      () => enumParam(task, "operation", RUNWARE_LIMITS.accountOperations),
      () => ruleParam(task, "operation", (v) => v === "getDetails", "the simulator answers getDetails only"),
    ),
  // Read when the item finishes, so the balance includes everything charged until then.
  plan: (_task, ctx) => ({ items: [() => ctx.account.details()] }),
};
