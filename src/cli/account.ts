/**
 * `runware account`: the account's balance and usage (`accountManagement` `operation: "getDetails"`,
 * docs/protocol.md §8; the official CLI's `account details`). Prints Runware's JSON on stdout and a
 * one-line summary on stderr.
 */
import type { ResultItem } from "../client/index.js";
import { CLIENT_USAGE, exitFor, flagsOf, parseClient, printJson, say, usage } from "./args.js";
import { withDaemon } from "./reach.js";

const ACCOUNT_USAGE = `usage: runware account
  Prints the account's details (accountManagement getDetails: balance, usage) as JSON, and a
  one-line summary on stderr ("balance 12.34 USD; today 56 requests, 1.23 credits").
${CLIENT_USAGE}`;

const rec = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {});

/** The stderr line, from whatever of the answer's fields are there. */
export function accountSummary(item: ResultItem): string {
  const parts: string[] = [];
  const balance = rec(item["balance"]);
  if (typeof balance["amount"] === "number")
    parts.push(`balance ${balance["amount"]} ${typeof balance["currency"] === "string" ? balance["currency"] : "USD"}`);
  const today = rec(rec(item["usage"])["today"]);
  if (typeof today["requests"] === "number") {
    parts.push(`today ${today["requests"]} requests${typeof today["credits"] === "number" ? `, ${today["credits"]} credits` : ""}`);
  }
  if (typeof item["organizationName"] === "string") parts.push(item["organizationName"]);
  return parts.length ? parts.join("; ") : "no balance in the answer";
}

export async function account(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, {});
  if (values["help"]) return usage(ACCOUNT_USAGE);
  const env = await withDaemon(flagsOf(values), (client) => client.run([{ taskType: "accountManagement", operation: "getDetails" }]));
  printJson(env);
  const item = env.data[0];
  if (item) say(accountSummary(item));
  return exitFor(env);
}
