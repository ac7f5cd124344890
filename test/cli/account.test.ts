/**
 * `runware account` end to end: Runware's getDetails answer on stdout, a one-line summary on
 * stderr, and the balance is the simulator's, lowered by the work done before.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli, stdoutEnvelope } from "../helpers/cli.js";
import { startRig } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("cli - account", () => {
  it("account - prints the balance and usage as JSON with a one-line summary; finished work lowers the balance", async () => {
    const rig = await startRig(cleanup);
    rig.sim.setBalance(12.5);
    const first = await runCli(cleanup, ["account", "--socket", rig.socketPath]);
    expect(first.code, first.stderr).toBe(0);
    expect(stdoutEnvelope(first).data[0]).toMatchObject({
      taskType: "accountManagement",
      operation: "getDetails",
      balance: { amount: 12.5, currency: "USD" },
    });
    expect(first.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^balance 12\.5 USD; today \d+ requests, [\d.]+ credits; /)]);

    const made = await runCli(cleanup, [
      "text-to-image",
      "--prompt",
      "a fox",
      "--width",
      "128",
      "--height",
      "128",
      "--socket",
      rig.socketPath,
    ]);
    expect(made.code).toBe(0);
    const second = await runCli(cleanup, ["account", "--socket", rig.socketPath]);
    const balance = stdoutEnvelope(second).data[0]?.["balance"] as { amount: number } | undefined;
    const amount = balance?.amount ?? Number.NaN;
    expect(amount).toBeLessThan(12.5);
    expect(second.stderr).toContain(`balance ${amount} USD`);
  });
});
