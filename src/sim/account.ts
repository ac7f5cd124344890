/**
 * The simulated account behind `accountManagement` `getDetails` (docs/protocol.md §8; shape: the TS
 * SDK's AccountManagementResult): a balance in USD that every finished billable result lowers by its
 * cost (the cost `includeCost` would show), and the requests and credits used since the simulator
 * started. `setBalance` sets it; the starting balance is `SIM_CONSTANTS.startBalance`.
 */
import { SIM_CONSTANTS } from "./limits.js";
import type { Item } from "./wire.js";

/** Money in the answers is rounded to this many decimals, as a ledger would. */
const DECIMALS = 6;
const round = (x: number) => Number(x.toFixed(DECIMALS));

export class Account {
  private balance: number = SIM_CONSTANTS.startBalance;
  private spent = 0;
  private requests = 0;

  /** One billable result finished. */
  charge(usd: number): void {
    this.balance -= usd;
    this.spent += usd;
    this.requests += 1;
  }

  setBalance(usd: number): void {
    this.balance = usd;
  }

  /** The `getDetails` answer's fields. Usage covers the simulator's lifetime, reported as today and the last 7 days. */
  details(): Item {
    const usage = { credits: round(this.spent), requests: this.requests };
    return {
      operation: "getDetails",
      organizationName: "Runware simulator",
      organizationUUID: SIM_CONSTANTS.organizationUUID,
      balance: { amount: round(this.balance), currency: "USD" },
      usage: { today: usage, last7Days: usage },
    };
  }
}
