/** Number formats shared by the report's tables. */

export const ms = (v: number, digits = 3) => `${v.toFixed(digits)} ms`;
/** Bytes in whole MiB (RSS, budgets). */
export const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
/** Bytes in decimal GB (loads: "2.5 GB of results"). */
export const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
