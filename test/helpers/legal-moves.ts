/**
 * The task moves this project means to allow, written out a second time on purpose (the table is
 * src/upstream/lifecycle.ts): changing the table takes changing this list, and the engine's tests
 * must reach every one of them.
 */
export const LEGAL_MOVES = [
  "queued>sent",
  "queued>done",
  "queued>failed",
  "queued>in-doubt",
  "queued>polling",
  "sent>polling",
  "sent>retry-wait",
  "sent>recovering",
  "sent>done",
  "sent>failed",
  "sent>in-doubt",
  "retry-wait>queued",
  "retry-wait>done",
  "retry-wait>failed",
  "retry-wait>in-doubt",
  "recovering>sent",
  "recovering>polling",
  "recovering>retry-wait",
  "recovering>done",
  "recovering>failed",
  "recovering>in-doubt",
  "polling>sent",
  "polling>retry-wait",
  "polling>done",
  "polling>failed",
  "polling>in-doubt",
];
